const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

/**
 * Under which key the failed sign-ins and wrong tokens of a client's address are counted: an IPv4
 * address as it is (also when the socket shows it IPv4-mapped, `::ffff:192.0.2.1`), an IPv6
 * address by its /64 network. One subscriber or server usually holds a whole /64, so counting by
 * full IPv6 address would give a single client 2^64 fresh allowances. Something that is not an
 * address (or none at all) is counted under itself, or under `unknown`.
 */
export function attemptKey(address: string | undefined): string {
  const text = (address ?? '').trim().toLowerCase().replace(/%.*$/, '');
  if (text === '') return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (mapped) return mapped[1]!;
  if (IPV4.test(text) || !text.includes(':')) return text;
  const groups = ipv6Groups(text);
  if (!groups) return text;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/** The eight hextets of an IPv6 address (`::` expanded, a trailing IPv4 part converted), or undefined. */
function ipv6Groups(text: string): string[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const split = (half: string | undefined) => (half ? half.split(':') : []);
  const head = split(halves[0]);
  const tail = split(halves[1]);
  const last = tail.length > 0 ? tail : head;
  const ipv4 = IPV4.exec(last[last.length - 1] ?? '');
  if (ipv4) {
    const [a, b, c, d] = ipv4.slice(1).map(Number) as [number, number, number, number];
    last.splice(last.length - 1, 1, ((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  return groups.every((g) => HEXTET.test(g)) ? groups : undefined;
}
