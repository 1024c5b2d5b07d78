import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { csrPath } from './fixtures.ts';

/**
 * CSRs built byte by byte and signed with node:crypto, for what `openssl req` cannot be made
 * to write (a non-minimal OID, a NUL inside a value, an ECDSA OID over an RSA signature). The
 * keys are the committed RSA-4096 fixture keys: making a new one takes seconds.
 */

/** The three committed RSA-4096 private keys of the valid-*.csr fixtures. */
export async function fixtureKeys(): Promise<KeyObject[]> {
  const names = ['valid-development.key', 'valid-production.key', 'valid-staging.key'];
  return Promise.all(names.map(async (name) => createPrivateKey(await readFile(csrPath(name)))));
}

/** One DER element (minimal definite length) around its content; written here, not taken from src/. */
export function encodeTlv(tag: number, parts: Buffer | Buffer[]): Buffer {
  const body = Buffer.concat(Array.isArray(parts) ? parts : [parts]);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

/** The content bytes of a dotted OID, base-128 arcs. */
export function encodeOid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes: number[] = [];
  for (const arc of [first! * 40 + second!, ...rest]) {
    const group = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) group.unshift((v & 0x7f) | 0x80);
    bytes.push(...group);
  }
  return Buffer.from(bytes);
}

export const OID = {
  CN: '2.5.4.3',
  OU: '2.5.4.11',
  O: '2.5.4.10',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  C: '2.5.4.6',
  emailAddress: '1.2.840.113549.1.9.1',
  serialNumber: '2.5.4.5',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  extensionRequest: '1.2.840.113549.1.9.14',
  basicConstraints: '2.5.29.19',
} as const;

export const STRING = { utf8: 0x0c, printable: 0x13, ia5: 0x16, bmp: 0x1e } as const;

/** One attribute: a dotted OID (or the raw content bytes of one), a string tag and the value's bytes. */
export type RawAttribute = [oid: string | Buffer, tag: number, value: string | Buffer];

export const oidTlv = (oid: string | Buffer) =>
  encodeTlv(0x06, typeof oid === 'string' ? encodeOid(oid) : oid);

export const attribute = ([oid, tag, value]: RawAttribute) =>
  encodeTlv(0x30, [
    oidTlv(oid),
    encodeTlv(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value),
  ]);

/** A Name with one RDN per attribute (as OpenSSL writes it), or the RDNs given as groups. */
export function rawName(rdns: (RawAttribute | RawAttribute[])[]): Buffer {
  return encodeTlv(
    0x30,
    rdns.map((rdn) =>
      encodeTlv(
        0x31,
        (Array.isArray(rdn[0]) ? (rdn as RawAttribute[]) : [rdn as RawAttribute]).map(attribute),
      ),
    ),
  );
}

/** The standard valid subject, with some attributes replaced (by OID type name). */
export function standardSubject(
  changes: Partial<Record<string, RawAttribute>> = {},
  cn = 'hr_integration-TE1002-raw',
): RawAttribute[] {
  const standard: Record<string, RawAttribute> = {
    CN: [OID.CN, STRING.utf8, cn],
    OU: [OID.OU, STRING.utf8, 'Integrations'],
    O: [OID.O, STRING.utf8, 'Example Software B.V.'],
    L: [OID.L, STRING.utf8, 'Enschede'],
    ST: [OID.ST, STRING.utf8, 'Overijssel'],
    C: [OID.C, STRING.printable, 'NL'],
    emailAddress: [OID.emailAddress, STRING.ia5, 'pki@example.com'],
  };
  return Object.entries({ ...standard, ...changes }).flatMap(([, value]) => (value ? [value] : []));
}

export interface RawCsr {
  name: Buffer;
  key: KeyObject;
  /** The SubjectPublicKeyInfo; the key's own by default. */
  spki?: Buffer;
  /** DER of the version INTEGER; 02 01 00 by default. */
  version?: Buffer;
  /** The [0] attributes element; empty by default, as OpenSSL writes it. */
  attributes?: Buffer;
  algorithm?: string;
  /** Parameters of the signature algorithm: NULL by default, none when null. */
  parameters?: Buffer | null;
  hash?: string;
  /** Replaces the signature (a garbage one). */
  signature?: Buffer;
}

/** A CertificationRequest in DER, signed with `key` over the info as built. */
export function rawCsr(parts: RawCsr): Buffer {
  const spki = parts.spki ?? createPublicKey(parts.key).export({ type: 'spki', format: 'der' });
  const info = encodeTlv(0x30, [
    parts.version ?? Buffer.from([0x02, 0x01, 0x00]),
    parts.name,
    spki,
    parts.attributes ?? Buffer.from([0xa0, 0x00]),
  ]);
  const signature = parts.signature ?? sign(parts.hash ?? 'sha256', info, parts.key);
  const parameters =
    parts.parameters === undefined ? [Buffer.from([0x05, 0x00])] : parts.parameters ? [parts.parameters] : [];
  const algorithm = encodeTlv(0x30, [oidTlv(parts.algorithm ?? OID.sha256WithRSAEncryption), ...parameters]);
  return encodeTlv(0x30, [info, algorithm, encodeTlv(0x03, [Buffer.from([0x00]), signature])]);
}

/** The [0] attributes element asking for basicConstraints with the given DER value. */
export function extensionRequest(basicConstraintsValue: Buffer): Buffer {
  const extension = encodeTlv(0x30, [oidTlv(OID.basicConstraints), encodeTlv(0x04, basicConstraintsValue)]);
  return encodeTlv(0xa0, [
    encodeTlv(0x30, [oidTlv(OID.extensionRequest), encodeTlv(0x31, [encodeTlv(0x30, [extension])])]),
  ]);
}
