import { createHash, createPublicKey } from 'node:crypto';
import { DerError, readChildren, readTlv, slice, type Tlv } from './der.ts';
import { findPemBlocks } from './pem.ts';

/** The public key a file names, by the SHA-256 of its SubjectPublicKeyInfo DER. */
export type KeyFileReading =
  | {
      ok: true;
      /** Lower-case hex: what CsrFacts.publicKeySha256 is for a CSR with this key. */
      spkiSha256: string;
      what: 'certificate request' | 'certificate' | 'public key';
      keyType: string;
      bits: number | undefined;
    }
  | { ok: false; code: 'private_key' | 'unreadable'; message: string };

const PRIVATE_KEY_REFUSED =
  'the file holds a PRIVATE KEY, which must not be handled (not even to block it): give its public key ' +
  'instead (`openssl pkey -in <key> -pubout`, run where the key is), a CSR or a certificate with it, ' +
  'or --spki-sha256; a private key that was sent around is leaked, so block it and have it replaced';

const PUBLIC_LABELS = new Set([
  'CERTIFICATE REQUEST',
  'NEW CERTIFICATE REQUEST',
  'CERTIFICATE',
  'PUBLIC KEY',
  'RSA PUBLIC KEY',
]);

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const CONTEXT_0 = 0xa0;

/**
 * Reads a CSR, a certificate or a public key (SPKI or PKCS#1), PEM or DER, to the hash of its
 * key. A private key (PEM, or DER by its structure alone) is refused without being read.
 */
export function readPublicKeyFile(bytes: Buffer): KeyFileReading {
  const text = bytes.toString('latin1');
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PuTTY-User-Key-File/.test(text)) {
    return { ok: false, code: 'private_key', message: PRIVATE_KEY_REFUSED };
  }
  const blocks = findPemBlocks(text);
  if (text.includes('-----BEGIN ')) {
    const found = blocks.filter((b) => PUBLIC_LABELS.has(b.label));
    if (found.length !== 1) {
      return unreadable(
        found.length === 0
          ? 'the PEM file holds no CERTIFICATE REQUEST, CERTIFICATE or PUBLIC KEY block'
          : `the PEM file holds ${found.length} keys, CSRs or certificates; give one`,
      );
    }
    const der = found[0]!.der;
    return der ? readDer(der) : unreadable('its PEM block is not valid base64');
  }
  return readDer(bytes);
}

function unreadable(why: string): KeyFileReading {
  return {
    ok: false,
    code: 'unreadable',
    message: `${why}: give a CSR, a certificate or a public key, PEM or DER, or --spki-sha256`,
  };
}

function readDer(der: Buffer): KeyFileReading {
  let outer: Tlv;
  let parts: Tlv[];
  try {
    outer = readTlv(der, 0);
    if (outer.tag !== SEQUENCE || outer.end !== der.length) throw new DerError('not one DER SEQUENCE');
    parts = readChildren(der, outer);
  } catch {
    return unreadable('the file is neither PEM nor one DER structure');
  }
  const tags = parts.map((p) => p.tag);
  // PKCS#8, PKCS#1 and SEC1 private keys start with a version INTEGER and have three or more
  // parts; an encrypted PKCS#8 key is an algorithm and an OCTET STRING.
  const privateKey =
    (tags[0] === INTEGER && tags.length >= 3) ||
    (tags.length === 2 && tags[0] === SEQUENCE && tags[1] === OCTET_STRING);
  if (privateKey) return { ok: false, code: 'private_key', message: PRIVATE_KEY_REFUSED };
  try {
    if (tags.length === 2 && tags[0] === SEQUENCE && tags[1] === BIT_STRING) {
      return describe(der, 'public key');
    }
    if (tags.length === 2 && tags[0] === INTEGER && tags[1] === INTEGER) {
      const spki = createPublicKey({ key: der, format: 'der', type: 'pkcs1' }).export({
        type: 'spki',
        format: 'der',
      });
      return describe(spki, 'public key');
    }
    if (tags.length === 3 && tags[0] === SEQUENCE && tags[2] === BIT_STRING) {
      // A certificate's TBSCertificate has six or more parts, a CSR's CertificationRequestInfo
      // three or four; the SubjectPublicKeyInfo is taken as it is there, byte for byte.
      const inner = readChildren(der, parts[0]!);
      if (inner.length >= 6) {
        const spki = inner[inner[0]!.tag === CONTEXT_0 ? 6 : 5];
        if (spki?.tag === SEQUENCE) return describe(slice(der, spki), 'certificate');
      } else if (inner[2]?.tag === SEQUENCE) {
        return describe(slice(der, inner[2]), 'certificate request');
      }
    }
  } catch {
    // Not a key OpenSSL reads: refused below like any other unknown structure.
  }
  return unreadable('the file is not a CSR, a certificate or a public key');
}

function describe(spki: Buffer, what: 'certificate request' | 'certificate' | 'public key'): KeyFileReading {
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return {
    ok: true,
    spkiSha256: createHash('sha256').update(spki).digest('hex'),
    what,
    keyType: key.asymmetricKeyType ?? 'unknown',
    bits: key.asymmetricKeyDetails?.modulusLength,
  };
}
