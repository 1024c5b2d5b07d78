import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { CsrFacts, HashName } from '../core/csr-policy.ts';
import {
  checkStrictDer,
  content,
  decodeOid,
  DerError,
  readChildren,
  readOid,
  readSmallInteger,
  readTlv,
  readWhole,
  slice,
  TAG,
  type Tlv,
} from './der.ts';
import { findPemBlocks, findPemMarkers } from './pem.ts';
import { readName } from './subject-der.ts';
import { describeBytes, readUpload } from './upload-bytes.ts';

/** The largest CSR file we read (product.md: at most 64 KiB). */
export const MAX_CSR_BYTES = 64 * 1024;

/** A CSR that was read: the facts the policy judges, and the parts a certificate is made of. */
export interface ReadCsr {
  ok: true;
  facts: CsrFacts;
  /** The CSR's DER exactly as signed; `toPem('CERTIFICATE REQUEST', der)` is what is stored. */
  der: Buffer;
  /** The SubjectPublicKeyInfo exactly as in the CSR (checked to be canonical DER). */
  spkiDer: Buffer;
  publicKey: KeyObject;
}

/**
 * A CSR read from an upload, or why none was. A refused upload may still hold one readable
 * CSR (`csrDer`: a CSR with its private key in one file); that CSR, and nothing else of the
 * upload, is what may be kept.
 */
export type ParsedCsr = ReadCsr | { ok: false; problem: string; csrDer?: Buffer };

const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/**
 * PEM labels a message may name. A label comes from the upload, so any other is not repeated
 * (a message never echoes upload bytes).
 */
const KNOWN_LABELS = new Set([
  'CERTIFICATE',
  'TRUSTED CERTIFICATE',
  'X509 CRL',
  'PUBLIC KEY',
  'RSA PUBLIC KEY',
  'PKCS7',
  'CMS',
  'PGP PUBLIC KEY BLOCK',
  'SSH2 PUBLIC KEY',
  'DH PARAMETERS',
  'EC PARAMETERS',
]);

/** The warning for any private key in an upload: it has been sent, so it is no longer private. */
export const PRIVATE_KEY_PROBLEM =
  'the file contains a PRIVATE KEY: never send your private key to anyone; it must be treated as ' +
  'leaked now, so generate a new key and CSR and upload only the .csr file';

const AGAIN = 'upload the .csr file that openssl req wrote';

type KeyFamily = 'rsa' | 'ec' | 'ed25519';

const SIGNATURE_ALGORITHMS: Record<string, { name: string; hash: HashName; family: KeyFamily }> = {
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', hash: 'md5', family: 'rsa' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', hash: 'sha1', family: 'rsa' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', hash: 'sha224', family: 'rsa' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'sha256', family: 'rsa' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'sha384', family: 'rsa' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'sha512', family: 'rsa' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', hash: 'sha1', family: 'ec' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', hash: 'sha224', family: 'ec' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256', family: 'ec' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384', family: 'ec' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'sha512', family: 'ec' },
  '1.3.101.112': { name: 'Ed25519', hash: 'none', family: 'ed25519' },
};

/** The Node key types each algorithm family may sign with; rsa-pss keys sign only RSASSA-PSS. */
const FAMILY_KEY_TYPES: Record<KeyFamily, string> = { rsa: 'rsa', ec: 'ec', ed25519: 'ed25519' };

const EXTENSION_REQUEST_OIDS = new Set(['1.2.840.113549.1.9.14', '1.3.6.1.4.1.311.2.1.14']);
const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';
const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

/**
 * Reads one PKCS#10 request from an upload: PEM (UTF-8, with or without BOM, or UTF-16 LE/BE
 * with BOM, text around the block allowed), DER, or base64 DER without armour (an RFC 7030
 * EST body). Never throws: anything that is not exactly one readable CSR comes back as a
 * problem in words (the policy reports it as `malformed_csr`) that says what the file looks
 * like, and never repeats the upload's bytes. A private key anywhere in it (PEM, DER PKCS#1,
 * PKCS#8, encrypted PKCS#8 or SEC1, recognised by structure) is refused with a warning.
 */
export function parseCsr(input: string | Buffer): ParsedCsr {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > MAX_CSR_BYTES) return { ok: false, problem: oversizedProblem(size) };
  const upload = readUpload(input);
  switch (upload.kind) {
    case 'der':
      return fromDer(upload.bytes);
    case 'text':
      return fromText(upload.text, upload.bytes);
    case 'other':
      return { ok: false, problem: `${upload.hint}, not a certificate request: ${AGAIN}` };
  }
}

/** Why a file of `size` bytes is refused before it is read. */
export function oversizedProblem(size: number): string {
  return `the file is ${Math.ceil(size / 1024)} KiB; a CSR is at most 64 KiB: ${AGAIN}`;
}

function fromText(text: string, bytes: Buffer): ParsedCsr {
  const markers = findPemMarkers(text);
  const blocks = findPemBlocks(text, markers);
  const requests = blocks.filter((b) => CSR_LABELS.has(b.label));
  const keyInside = (der: Buffer | undefined) => der !== undefined && holdsPrivateKey(der);
  if (
    markers.some((m) => m.label.includes('PRIVATE KEY')) ||
    text.includes('PuTTY-User-Key-File-') ||
    blocks.some((b) => keyInside(b.der))
  ) {
    return privateKeyRefusal(requests.length === 1 ? requests[0]!.der : undefined);
  }
  if (requests.length === 0) {
    const begun = markers.find((m) => m.kind === 'BEGIN');
    if (begun && CSR_LABELS.has(begun.label)) {
      return malformed(`the CSR block has no matching -----END ${begun.label}----- line: ${AGAIN}`);
    }
    if (begun) {
      const what = KNOWN_LABELS.has(begun.label) ? `a ${begun.label}` : 'a PEM block of another kind';
      return malformed(`the file holds ${what}, not a certificate request: ${AGAIN}`);
    }
    const base64 = text.replace(/\s+/g, '');
    if (base64.length >= 16 && base64.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
      return fromDer(Buffer.from(base64, 'base64'));
    }
    return malformed(`${describeBytes(bytes)}, with no -----BEGIN CERTIFICATE REQUEST----- block: ${AGAIN}`);
  }
  if (requests.length > 1) {
    return malformed(
      `the file holds ${requests.length} certificate requests; upload exactly one CSR per environment`,
    );
  }
  const der = requests[0]!.der;
  if (!der)
    return malformed('the CSR block is not valid base64: upload the file exactly as openssl req wrote it');
  return readCsrDer(der);
}

/** Binary DER: one CSR and nothing after it, or a private key (then refused, whatever else). */
function fromDer(bytes: Buffer): ParsedCsr {
  const elements = topLevelElements(bytes);
  if (elements.some((element) => holdsPrivateKey(slice(bytes, element)))) {
    const first = elements[0];
    const csr = first && looksLikeCsr(bytes, first) ? slice(bytes, first) : undefined;
    return privateKeyRefusal(csr);
  }
  const first = elements[0];
  if (first && elements.length > 1 && looksLikeCsr(bytes, first)) {
    return malformed(`the file has more after the CSR (${bytes.length - first.end} bytes): ${AGAIN}`);
  }
  if (first && !looksLikeCsr(bytes, first)) {
    return malformed(`${describeBytes(bytes)}, not a certificate request: ${AGAIN}`);
  }
  return readCsrDer(bytes);
}

function malformed(problem: string): ParsedCsr {
  return { ok: false, problem };
}

function privateKeyRefusal(csr: Buffer | undefined): ParsedCsr {
  const read = csr ? readCsrDer(csr) : undefined;
  return { ok: false, problem: PRIVATE_KEY_PROBLEM, ...(read?.ok ? { csrDer: read.der } : {}) };
}

/** The DER elements that follow one another from the start, as far as they can be read. */
function topLevelElements(bytes: Buffer): Tlv[] {
  const elements: Tlv[] = [];
  for (let offset = 0; offset < bytes.length && elements.length < 8;) {
    try {
      const element = readTlv(bytes, offset);
      elements.push(element);
      offset = element.end;
    } catch {
      break;
    }
  }
  return elements;
}

/** SEQUENCE { SEQUENCE { INTEGER ... } ... }: the shape of a CertificationRequest. */
function looksLikeCsr(bytes: Buffer, element: Tlv): boolean {
  try {
    // Only the first elements: a CSR with a flaw further on is still called a CSR (and its
    // flaw named by readCsrDer).
    if (element.tag !== TAG.SEQUENCE) return false;
    const info = readTlv(bytes, element.contentStart, element.end);
    return info.tag === TAG.SEQUENCE && readTlv(bytes, info.contentStart, info.end).tag === TAG.INTEGER;
  } catch {
    return false;
  }
}

const PBE_ARCS = ['1.2.840.113549.1.5.', '1.2.840.113549.1.12.1.'];

/**
 * Whether DER is a private key, by its structure (not by guessing from bytes): PKCS#1
 * RSAPrivateKey (and OpenSSL's DSA key: a version 0 or 1 and at least five more INTEGERs),
 * PKCS#8 PrivateKeyInfo/OneAsymmetricKey (version, AlgorithmIdentifier, OCTET STRING),
 * PKCS#8 EncryptedPrivateKeyInfo (a PKCS#5 or PKCS#12 encryption algorithm and an OCTET
 * STRING), and SEC1 ECPrivateKey (version 1, OCTET STRING, [0]/[1]).
 */
export function holdsPrivateKey(der: Buffer): boolean {
  try {
    const outer = readTlv(der, 0);
    if (outer.tag !== TAG.SEQUENCE) return false;
    const parts = readChildren(der, outer);
    const [first, second, third] = parts;
    if (!first || !second) return false;
    const version = first.tag === TAG.INTEGER ? readSmallInteger(der, first) : undefined;
    if ((version === 0 || version === 1) && parts.length >= 6 && parts.every((p) => p.tag === TAG.INTEGER))
      return true;
    if (
      (version === 0 || version === 1) &&
      second.tag === TAG.SEQUENCE &&
      third?.tag === TAG.OCTET_STRING &&
      readChildren(der, second)[0]?.tag === TAG.OID
    )
      return true;
    if (
      version === 1 &&
      second.tag === TAG.OCTET_STRING &&
      parts.slice(2).every((p) => p.tag === 0xa0 || p.tag === 0xa1)
    )
      return true;
    if (parts.length === 2 && first.tag === TAG.SEQUENCE && second.tag === TAG.OCTET_STRING) {
      const algorithm = readChildren(der, first)[0];
      if (algorithm?.tag !== TAG.OID) return false;
      const oid = decodeOid(content(der, algorithm));
      return PBE_ARCS.some((arc) => oid.startsWith(arc));
    }
    return false;
  } catch {
    return false;
  }
}

function readCsrDer(der: Buffer): ParsedCsr {
  try {
    return readStrictCsr(der);
  } catch (error) {
    // Our DerError messages are fixed words; anything else (node:crypto's) is not repeated.
    const detail = error instanceof DerError ? `: ${error.message}` : '';
    return malformed(
      `the CSR cannot be read as a PKCS#10 request${detail}; upload the file exactly as openssl req wrote it`,
    );
  }
}

function readStrictCsr(der: Buffer): ReadCsr {
  checkStrictDer(der);
  const outer = readWhole(der);
  if (outer.tag !== TAG.SEQUENCE) throw new DerError('not one DER SEQUENCE');
  const [info, algorithm, signature, ...extra] = readChildren(der, outer);
  if (!info || !algorithm || !signature || extra.length > 0)
    throw new DerError('expected info, algorithm, signature');
  if (info.tag !== TAG.SEQUENCE || algorithm.tag !== TAG.SEQUENCE || signature.tag !== TAG.BIT_STRING)
    throw new DerError('unexpected element types');
  const [version, name, spki, attributes, ...more] = readChildren(der, info);
  if (!version || !name || !spki || spki.tag !== TAG.SEQUENCE || more.length > 0) {
    throw new DerError('the request info lacks version, subject or public key');
  }
  if (readSmallInteger(der, version) !== 0) throw new DerError('the CSR version is not 1');
  if (attributes && attributes.tag !== 0xa0) throw new DerError('unexpected element after the public key');

  const subject = readName(der, name);
  const spkiDer = slice(der, spki);
  const publicKey = readPublicKey(spkiDer);
  const algorithmOid = readAlgorithm(der, algorithm);
  const known = SIGNATURE_ALGORITHMS[algorithmOid];
  const signatureBytes = content(der, signature);
  if (signatureBytes[0] !== 0) throw new DerError('the signature has unused bits');
  const fitsKey = known !== undefined && publicKey.asymmetricKeyType === FAMILY_KEY_TYPES[known.family];

  const facts: CsrFacts = {
    subject,
    publicKey: describeKey(publicKey),
    signatureAlgorithm: known?.name ?? algorithmOid,
    signatureHash: known?.hash ?? 'unknown',
    // Node's verify() picks the scheme from the key, not from the OID: without the family
    // check an RSA signature would pass under an ECDSA OID that OpenSSL refuses.
    signatureValid:
      fitsKey &&
      verifySafely(
        known.family === 'ed25519' ? null : known.hash,
        slice(der, info),
        publicKey,
        signatureBytes.subarray(1),
      ),
    ...(known && !fitsKey ? { signatureFitsKey: false } : {}),
    requested: attributes ? readRequestedExtensions(der, attributes) : { ca: false, keyUsages: [] },
    fingerprintSha256: sha256Hex(der),
    publicKeySha256: sha256Hex(spkiDer),
  };
  return { ok: true, facts, der, spkiDer, publicKey };
}

/** The key, and only when the CSR holds it exactly as OpenSSL writes it (it goes into the certificate). */
function readPublicKey(spkiDer: Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch {
    throw new DerError('the public key cannot be read');
  }
  if (!key.export({ type: 'spki', format: 'der' }).equals(spkiDer)) {
    throw new DerError('the public key is not in canonical DER');
  }
  return key;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function verifySafely(hash: string | null, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify(hash, data, key, signature);
  } catch {
    return false;
  }
}

function describeKey(key: KeyObject): CsrFacts['publicKey'] {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa' || type === 'rsa-pss') {
    return { type, bits: details.modulusLength, exponent: details.publicExponent, modulus: modulusOf(key) };
  }
  return { type: type === 'ec' && details.namedCurve ? `EC (${details.namedCurve})` : type };
}

/** The RSA modulus, for the weak-key checks (core/rsa-key-strength.ts); undefined if unreadable. */
function modulusOf(key: KeyObject): bigint | undefined {
  try {
    const n = key.export({ format: 'jwk' }).n;
    return n ? BigInt(`0x${Buffer.from(n, 'base64url').toString('hex')}`) : undefined;
  } catch {
    return undefined; // RSA-PSS keys have no JWK form; they are refused as unsupported anyway.
  }
}

/** AlgorithmIdentifier: an OID with no parameters, or NULL ones (all the algorithms we know). */
function readAlgorithm(der: Buffer, algorithm: Tlv): string {
  const [oid, parameters, ...extra] = readChildren(der, algorithm);
  if (!oid) throw new DerError('the signature algorithm is not an OID');
  const dotted = readOid(der, oid);
  const nullParameters = parameters?.tag === TAG.NULL;
  if (extra.length > 0 || (parameters && !nullParameters)) {
    throw new DerError('the signature algorithm has unexpected parameters');
  }
  if (nullParameters && SIGNATURE_ALGORITHMS[dotted]?.family !== 'rsa') {
    throw new DerError('the signature algorithm has parameters it must not have');
  }
  return dotted;
}

function children(der: Buffer, tlv: Tlv, tag: number): Tlv[] {
  if (tlv.tag !== tag) throw new DerError('unexpected element type in the requested extensions');
  return readChildren(der, tlv);
}

/** Reads only what the policy needs (a CA request); nothing of it is ever copied. */
function readRequestedExtensions(der: Buffer, attributes: Tlv): CsrFacts['requested'] {
  const requested: CsrFacts['requested'] = { ca: false, keyUsages: [] };
  for (const attribute of readChildren(der, attributes)) {
    const [type, values] = children(der, attribute, TAG.SEQUENCE);
    if (!type || !values) throw new DerError('bad request attribute');
    if (!EXTENSION_REQUEST_OIDS.has(readOid(der, type))) continue;
    for (const extensions of children(der, values, TAG.SET)) {
      for (const extension of children(der, extensions, TAG.SEQUENCE)) {
        const parts = children(der, extension, TAG.SEQUENCE);
        const [oid] = parts;
        const value = parts[parts.length - 1];
        const critical = parts.length === 3 ? parts[1] : undefined;
        if (
          !oid ||
          !value ||
          parts.length > 3 ||
          value.tag !== TAG.OCTET_STRING ||
          (critical && critical.tag !== TAG.BOOLEAN)
        )
          throw new DerError('bad requested extension');
        const id = readOid(der, oid);
        if (id === BASIC_CONSTRAINTS) requested.ca ||= readCaFlag(content(der, value));
        if (id === KEY_USAGE) requested.keyUsages.push(...readKeyUsage(content(der, value)));
      }
    }
  }
  return requested;
}

function readCaFlag(value: Buffer): boolean {
  checkStrictDer(value);
  const [first] = children(value, readWhole(value), TAG.SEQUENCE);
  return first?.tag === TAG.BOOLEAN && value[first.contentStart] === 0xff;
}

function readKeyUsage(value: Buffer): string[] {
  checkStrictDer(value);
  const bits = readWhole(value);
  if (bits.tag !== TAG.BIT_STRING) throw new DerError('bad keyUsage');
  const bytes = content(value, bits).subarray(1);
  return KEY_USAGE_BITS.filter((_, i) => ((bytes[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0);
}
