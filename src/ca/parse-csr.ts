import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { CsrFacts, HashName } from '../core/csr-policy.ts';
import { DerError, readChildren, readTlv, slice, type Tlv } from './der.ts';
import { findPemBlocks } from './pem.ts';

/** The largest CSR file we read (product.md: at most 64 KiB). */
export const MAX_CSR_BYTES = 64 * 1024;

/** A CSR read from PEM: the facts the policy judges, and the raw parts a certificate reuses. */
export type ParsedCsr =
  | {
      ok: true;
      facts: CsrFacts;
      der: Buffer;
      /** The subject Name exactly as the supplier signed it. */
      subjectDer: Buffer;
      /** The SubjectPublicKeyInfo exactly as in the CSR. */
      spkiDer: Buffer;
      publicKey: KeyObject;
    }
  | { ok: false; problem: string };

const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

const SIGNATURE_ALGORITHMS: Record<string, { name: string; hash: HashName; verifyHash: string | null }> = {
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', hash: 'md5', verifyHash: 'md5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', hash: 'sha1', verifyHash: 'sha1' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', hash: 'sha224', verifyHash: 'sha224' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'sha256', verifyHash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'sha384', verifyHash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'sha512', verifyHash: 'sha512' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', hash: 'sha1', verifyHash: 'sha1' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', hash: 'sha224', verifyHash: 'sha224' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256', verifyHash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384', verifyHash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'sha512', verifyHash: 'sha512' },
  '1.3.101.112': { name: 'Ed25519', hash: 'none', verifyHash: null },
};

const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.11': 'OU',
  '2.5.4.10': 'O',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.6': 'C',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '2.5.4.5': 'serialNumber',
  '2.5.4.9': 'street',
  '0.9.2342.19200300.100.1.25': 'DC',
};

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
 * Reads one PEM PKCS#10 request. Never throws: anything that is not exactly one readable CSR
 * comes back as a problem in words (the policy reports it as `malformed_csr`).
 */
export function parseCsr(input: string | Buffer): ParsedCsr {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > MAX_CSR_BYTES) return { ok: false, problem: oversizedProblem(size) };
  const text = typeof input === 'string' ? input : input.toString('latin1');
  const blocks = findPemBlocks(text);
  if (blocks.some((b) => b.label.includes('PRIVATE KEY'))) {
    return {
      ok: false,
      problem:
        'the file contains a PRIVATE KEY: never send your private key to anyone; it must be treated as ' +
        'leaked now, so generate a new key and CSR and upload only the .csr file',
    };
  }
  const requests = blocks.filter((b) => CSR_LABELS.has(b.label));
  if (requests.length === 0) {
    const other = blocks[0]?.label;
    return {
      ok: false,
      problem: other
        ? `the file holds a ${other}, not a certificate request: upload the .csr file that openssl req wrote`
        : 'the file is not a PEM certificate request (no -----BEGIN CERTIFICATE REQUEST----- block): upload the .csr file that openssl req wrote',
    };
  }
  if (requests.length > 1) {
    return {
      ok: false,
      problem: `the file holds ${requests.length} certificate requests; upload exactly one CSR per environment`,
    };
  }
  const der = requests[0]!.der;
  if (!der) {
    return {
      ok: false,
      problem: 'the CSR block is not valid base64: upload the file exactly as openssl req wrote it',
    };
  }
  try {
    return readDer(der);
  } catch (error) {
    const detail = error instanceof DerError || error instanceof Error ? `: ${error.message}` : '';
    return {
      ok: false,
      problem: `the CSR cannot be read as a PKCS#10 request${detail}; upload the file exactly as openssl req wrote it`,
    };
  }
}

/** Why a file of `size` bytes is refused before it is read. */
export function oversizedProblem(size: number): string {
  return `the file is ${Math.ceil(size / 1024)} KiB; a CSR is at most 64 KiB: upload only the .csr file that openssl req wrote`;
}

function readDer(der: Buffer): ParsedCsr {
  const outer = readTlv(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new DerError('not one DER SEQUENCE');
  const [info, algorithm, signature, ...extra] = readChildren(der, outer);
  if (!info || !algorithm || !signature || extra.length > 0)
    throw new DerError('expected info, algorithm, signature');
  if (info.tag !== 0x30 || algorithm.tag !== 0x30 || signature.tag !== 0x03)
    throw new DerError('unexpected element types');
  const [version, name, spki, attributes] = readChildren(der, info);
  if (!version || !name || !spki || version.tag !== 0x02 || name.tag !== 0x30 || spki.tag !== 0x30) {
    throw new DerError('the request info lacks version, subject or public key');
  }
  if (attributes && attributes.tag !== 0xa0) throw new DerError('unexpected element after the public key');

  const spkiDer = slice(der, spki);
  const publicKey = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  const algorithmOid = readOid(der, algorithm);
  const known = SIGNATURE_ALGORITHMS[algorithmOid];
  const signatureBytes = der.subarray(signature.contentStart, signature.end);
  if (signatureBytes[0] !== 0) throw new DerError('the signature has unused bits');

  const facts: CsrFacts = {
    subject: readName(slice(der, name)),
    publicKey: describeKey(publicKey),
    signatureAlgorithm: known?.name ?? algorithmOid,
    signatureHash: known?.hash ?? 'unknown',
    signatureValid:
      known !== undefined &&
      verifySafely(known.verifyHash, slice(der, info), publicKey, signatureBytes.subarray(1)),
    requested: attributes ? readRequestedExtensions(slice(der, attributes)) : { ca: false, keyUsages: [] },
    fingerprintSha256: sha256Hex(der),
    publicKeySha256: sha256Hex(spkiDer),
  };
  return { ok: true, facts, der, subjectDer: slice(der, name), spkiDer, publicKey };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function verifySafely(hash: string | null, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify(hash, data, key, signature);
  } catch {
    // A key that cannot verify this algorithm (say an EC key with an RSA OID) is a bad signature.
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
function readOid(der: Buffer, algorithm: Tlv): string {
  const [oid, parameters, ...extra] = readChildren(der, algorithm);
  if (!oid || oid.tag !== 0x06) throw new DerError('the signature algorithm is not an OID');
  const nullParameters = parameters?.tag === 0x05 && parameters.end === parameters.contentStart;
  if (extra.length > 0 || (parameters && !nullParameters)) {
    throw new DerError('the signature algorithm has unexpected parameters');
  }
  return forge.asn1.derToOid(
    forge.util.createBuffer(der.subarray(oid.contentStart, oid.end).toString('binary')),
  );
}

// @types/node-forge only knows the old boolean `strict` argument; forge 1.x takes options.
const asn1FromDer = forge.asn1.fromDer as unknown as (
  bytes: string,
  options: { strict: boolean; decodeBitStrings: boolean; parseAllBytes?: boolean },
) => forge.asn1.Asn1;

function fromDer(bytes: Buffer | string): forge.asn1.Asn1 {
  const binary = typeof bytes === 'string' ? bytes : bytes.toString('binary');
  return asn1FromDer(binary, { strict: true, decodeBitStrings: false, parseAllBytes: true });
}

function children(node: forge.asn1.Asn1): forge.asn1.Asn1[] {
  if (!Array.isArray(node.value)) throw new DerError('expected a constructed element');
  return node.value;
}

function readName(nameDer: Buffer): CsrFacts['subject'] {
  const attributes: CsrFacts['subject'] = [];
  for (const rdn of children(fromDer(nameDer))) {
    for (const pair of children(rdn)) {
      const [oidNode, valueNode] = children(pair);
      if (!oidNode || !valueNode || typeof oidNode.value !== 'string')
        throw new DerError('bad subject attribute');
      const oid = forge.asn1.derToOid(oidNode.value);
      attributes.push({ type: ATTRIBUTE_NAMES[oid] ?? oid, value: decodeString(valueNode) });
    }
  }
  return attributes;
}

function decodeString(node: forge.asn1.Asn1): string {
  if (typeof node.value !== 'string') throw new DerError('a subject value is not a string');
  const raw = node.value;
  switch (node.type as number) {
    case forge.asn1.Type.UTF8:
      return Buffer.from(raw, 'binary').toString('utf8');
    case forge.asn1.Type.BMPSTRING:
      return Buffer.from(raw, 'binary').swap16().toString('utf16le');
    case 28: // UniversalString: UCS-4 big-endian
      return String.fromCodePoint(
        ...Array.from({ length: raw.length / 4 }, (_, i) => Buffer.from(raw, 'binary').readUInt32BE(i * 4)),
      );
    default:
      return raw; // PrintableString, IA5String, TeletexString: single bytes
  }
}

function readRequestedExtensions(attributesDer: Buffer): CsrFacts['requested'] {
  const requested: CsrFacts['requested'] = { ca: false, keyUsages: [] };
  for (const attribute of children(fromDer(attributesDer))) {
    const [typeNode, values] = children(attribute);
    if (!typeNode || !values || typeof typeNode.value !== 'string')
      throw new DerError('bad request attribute');
    if (!EXTENSION_REQUEST_OIDS.has(forge.asn1.derToOid(typeNode.value))) continue;
    for (const extensions of children(values)) {
      for (const extension of children(extensions)) {
        const parts = children(extension);
        const oidNode = parts[0];
        const valueNode = parts[parts.length - 1];
        if (
          !oidNode ||
          !valueNode ||
          typeof oidNode.value !== 'string' ||
          typeof valueNode.value !== 'string'
        ) {
          throw new DerError('bad requested extension');
        }
        const oid = forge.asn1.derToOid(oidNode.value);
        if (oid === BASIC_CONSTRAINTS) requested.ca ||= readCaFlag(valueNode.value);
        if (oid === KEY_USAGE) requested.keyUsages.push(...readKeyUsage(valueNode.value));
      }
    }
  }
  return requested;
}

function readCaFlag(value: string): boolean {
  const [first] = children(fromDer(value));
  return first?.type === forge.asn1.Type.BOOLEAN && first.value !== '\x00';
}

function readKeyUsage(value: string): string[] {
  const bits = fromDer(value);
  if (typeof bits.value !== 'string') throw new DerError('bad keyUsage');
  const bytes = Buffer.from(bits.value, 'binary').subarray(1);
  return KEY_USAGE_BITS.filter((_, i) => ((bytes[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0);
}
