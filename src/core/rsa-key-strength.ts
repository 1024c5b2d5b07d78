/**
 * Weak RSA moduli, told from the public modulus alone: the checks of Let's Encrypt's Boulder
 * (goodkey) and one more. Each finds keys whose private key anyone can compute from the
 * certificate. Pure: a bigint in, a verdict out. Primality is not tested here: it needs a full
 * modular exponentiation, which OpenSSL does (see src/ca/key-primality.ts).
 *
 * The checks run cheapest first and stop at the first weakness; on a 4096-bit modulus they
 * cost about a tenth of a millisecond together (bench/key-strength.ts).
 */

/** Why a modulus is weak; `undefined` from {@link modulusWeakness} when none was found. */
export type ModulusWeakness =
  /** Divisible by 2. */
  | { kind: 'even' }
  /** Divisible by an odd prime below {@link SMALL_PRIME_LIMIT}. */
  | { kind: 'small_factor'; factor: number }
  /** The ROCA fingerprint (CVE-2017-15361): made by Infineon's RSA library. */
  | { kind: 'roca' }
  /** Its two primes are close: Fermat's method factors it in `round` steps (0: n = p²). */
  | { kind: 'close_primes'; round: number }
  /** n = m^exponent for a prime exponent >= 3 (squares are found by Fermat's method). */
  | { kind: 'perfect_power'; exponent: number };

/** Boulder refuses moduli with a prime factor below 752 (one GCD with their product). */
export const SMALL_PRIME_LIMIT = 752;
/** Boulder's number of Fermat rounds (at least 100 are asked for). */
export const FERMAT_ROUNDS = 110;

/**
 * The first weakness of the modulus `n` (> 1), or undefined. Order: even, small factor, ROCA,
 * close primes (Fermat), perfect power.
 */
export function modulusWeakness(n: bigint): ModulusWeakness | undefined {
  if (n < 3n) return n === 2n ? { kind: 'even' } : { kind: 'small_factor', factor: Number(n) };
  if ((n & 1n) === 0n) return { kind: 'even' };
  const residue = residuesOf(n, SMALL_PRIMES);
  // Equivalent to Boulder's gcd(n, primorial) > 1, without the bigint GCD (~0.2 ms).
  const factor = SMALL_PRIMES.find((p, i) => residue[i] === 0);
  if (factor !== undefined) return { kind: 'small_factor', factor };
  if (hasRocaFingerprint(residue)) return { kind: 'roca' };
  const round = fermatRound(n, FERMAT_ROUNDS);
  if (round !== undefined) return { kind: 'close_primes', round };
  const exponent = perfectPowerExponent(n);
  if (exponent !== undefined) return { kind: 'perfect_power', exponent };
  return undefined;
}

// --- small primes and residues ---------------------------------------------------------------

/** The odd primes below `limit`. */
function oddPrimesBelow(limit: number): number[] {
  const primes: number[] = [];
  for (let k = 3; k < limit; k += 2) if (isSmallPrime(k)) primes.push(k);
  return primes;
}

function isSmallPrime(k: number): boolean {
  if (k < 2) return false;
  for (let d = 2; d * d <= k; d++) if (k % d === 0) return false;
  return true;
}

const SMALL_PRIMES = oddPrimesBelow(SMALL_PRIME_LIMIT);

/**
 * n mod each of `moduli` (each < 2^26). One bigint division per group of moduli whose product
 * stays below 2^53, then plain number arithmetic: far cheaper than a bigint division each.
 */
function residuesOf(n: bigint, moduli: readonly number[]): number[] {
  const out = new Array<number>(moduli.length);
  let start = 0;
  while (start < moduli.length) {
    let product = 1;
    let end = start;
    while (end < moduli.length && product * moduli[end]! < 2 ** 53) product *= moduli[end++]!;
    const r = Number(n % BigInt(product));
    for (let i = start; i < end; i++) out[i] = r % moduli[i]!;
    start = end;
  }
  return out;
}

/** base^exponent mod m, for m < 2^26 (products stay exact in a double). */
function powMod(base: number, exponent: number, m: number): number {
  let result = 1;
  let b = base % m;
  for (let e = exponent; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

// --- ROCA ------------------------------------------------------------------------------------

/**
 * The 17 primes of the ROCA fingerprint test (the relations table of crocs-muni/roca, as used
 * by titanous/rocacheck). Infineon's primes are p = k·M + (65537^a mod M), M a primorial, so
 * n = p·q mod any such prime lies in the subgroup that 65537 generates; for these primes that
 * subgroup is small, and a random modulus lands in all 17 with a chance of ~4·10^-9.
 */
export const ROCA_PRIMES = [11, 13, 17, 19, 37, 53, 61, 71, 73, 79, 97, 103, 107, 109, 127, 151, 157];

/** For each ROCA prime p, which residues mod p are powers of 65537 (the fingerprints). */
const ROCA_SUBGROUPS = ROCA_PRIMES.map((p) => {
  const member = new Array<boolean>(p).fill(false);
  for (let x = 1; !member[x]; x = (x * (65537 % p)) % p) member[x] = true;
  return { index: SMALL_PRIMES.indexOf(p), member };
});

/** The order of 65537 mod each ROCA prime: the `r` of the published (r, p) pairs. */
export function rocaGeneratorOrders(): number[] {
  return ROCA_SUBGROUPS.map((g) => g.member.filter(Boolean).length);
}

function hasRocaFingerprint(smallResidues: readonly number[]): boolean {
  return ROCA_SUBGROUPS.every((g) => g.member[smallResidues[g.index]!] === true);
}

// --- Fermat's factorisation of close primes ---------------------------------------------------

// b² = a² - n is tested for a square modulo 64, 63, 65 and 11 first: a non-square passes all
// four with a chance of ~0.8%, so nearly every round is a few number operations, no bigint.
const FILTERS = [64, 63, 65, 11];
const FILTER_MODULUS = 64 * 63 * 65 * 11;
const SQUARES = FILTERS.map((m) => {
  const square = new Array<boolean>(m).fill(false);
  for (let x = 0; x < m; x++) square[(x * x) % m] = true;
  return square;
});

function maybeSquare(residue: number): boolean {
  for (let i = 0; i < FILTERS.length; i++) if (!SQUARES[i]![residue % FILTERS[i]!]) return false;
  return true;
}

/**
 * The round in which Fermat's method factors n = a² - b² = (a+b)(a-b), starting from
 * a = ceil(sqrt(n)) (round 0 when n is a square; Boulder starts one above, missing p = q), or
 * undefined after `rounds` more.
 */
function fermatRound(n: bigint, rounds: number): number | undefined {
  const root = isqrt(n);
  if (root * root === n) return 0;
  const nMod = Number(n % BigInt(FILTER_MODULUS));
  const rootMod = Number(root % BigInt(FILTER_MODULUS));
  for (let round = 1; round <= rounds; round++) {
    const aMod = (rootMod + round) % FILTER_MODULUS;
    const b2Mod = (((aMod * aMod - nMod) % FILTER_MODULUS) + FILTER_MODULUS) % FILTER_MODULUS;
    if (!maybeSquare(b2Mod)) continue;
    const a = root + BigInt(round);
    const b2 = a * a - n;
    const b = isqrt(b2);
    if (b * b === b2) return round;
  }
  return undefined;
}

/** Bits in v (> 0). */
function bitLength(v: bigint): number {
  const hex = v.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(Number.parseInt(hex[0]!, 16)));
}

/** floor(v^(1/k)) for v >= 0, k >= 2: Newton's method from a floating-point overestimate. */
export function iroot(v: bigint, k: number): bigint {
  if (v < 2n) return v;
  const bits = bitLength(v);
  // log2(v) to double precision from its top 53 bits.
  const shift = Math.max(0, bits - 53);
  const log2 = shift + Math.log2(Number(v >> BigInt(shift)));
  const estimate = log2 / k;
  const whole = Math.max(0, Math.floor(estimate) - 52);
  // Overestimate by 2^-40 relative (the double's error is ~2^-50) and round up.
  const mantissa = Math.ceil(2 ** (estimate - whole) * (1 + 2 ** -40)) + 1;
  let x = BigInt(mantissa) << BigInt(whole);
  const K = BigInt(k);
  // From above, Newton's iterates decrease monotonically to the floor of the root.
  for (;;) {
    const y = ((K - 1n) * x + v / x ** (K - 1n)) / K;
    if (y >= x) break;
    x = y;
  }
  while (x ** K > v) x--;
  while ((x + 1n) ** K <= v) x++;
  return x;
}

function isqrt(v: bigint): bigint {
  return iroot(v, 2);
}

// --- perfect powers ----------------------------------------------------------------------------

/**
 * How to rule out n = m^k cheaply for one prime k: for a prime p ≡ 1 (mod k), a k-th power
 * is a k-th power residue mod p, which a random n is with a chance of 1/k. `primes` are enough
 * such p that a random n passes them all with a chance below 2^-10 (then the root is taken).
 */
interface PowerTest {
  k: number;
  primes: number[];
  /** Index of each of `primes` in the plan's residue list. */
  at: number[];
}

interface PowerPlan {
  tests: PowerTest[];
  moduli: number[];
}

// The plans for each largest k (one per key size in practice).
const plans = new Map<number, PowerPlan>();

function powerPlan(maxK: number): PowerPlan {
  const known = plans.get(maxK);
  if (known) return known;
  const moduli: number[] = [];
  const tests: PowerTest[] = [];
  for (let k = 3; k <= maxK; k += 2) {
    if (!isSmallPrime(k)) continue;
    const wanted = Math.ceil(10 / Math.log2(k));
    const primes: number[] = [];
    for (let p = 2 * k + 1; primes.length < wanted; p += 2 * k) if (isSmallPrime(p)) primes.push(p);
    const at = primes.map((p) => {
      const i = moduli.indexOf(p);
      return i >= 0 ? i : moduli.push(p) - 1;
    });
    tests.push({ k, primes, at });
  }
  const plan = { tests, moduli };
  plans.set(maxK, plan);
  return plan;
}

/**
 * The prime k >= 3 with n = m^k, or undefined. n has no prime factor below 752 (checked
 * before), so m >= 757 and k <= log(n)/log(757).
 */
function perfectPowerExponent(n: bigint): number | undefined {
  const maxK = Math.floor(bitLength(n) / Math.log2(757));
  const plan = powerPlan(maxK);
  const residue = residuesOf(n, plan.moduli);
  for (const test of plan.tests) {
    const excluded = test.primes.some((p, i) => {
      const r = residue[test.at[i]!]!;
      return r !== 0 && powMod(r, (p - 1) / test.k, p) !== 1;
    });
    if (excluded) continue;
    const root = iroot(n, test.k);
    if (root ** BigInt(test.k) === n) return test.k;
  }
  return undefined;
}
