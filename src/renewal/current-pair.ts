import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readChildren, readTlv, slice } from '../ca/der.ts';
import { findPemBlocks } from '../ca/pem.ts';

/** The certificate being renewed and its key, as read from their files. */
export interface CurrentPair {
  certificate: X509Certificate;
  /** The certificate's DER. */
  der: Buffer;
  /** The subject Name exactly as the certificate holds it: the new CSR's subject. */
  subjectDer: Buffer;
  key: KeyObject;
  notBefore: Date;
  notAfter: Date;
}

/** A file that cannot be used as it is; the message names the file and what to do (exit 2). */
export class PairError extends Error {
  override name = 'PairError';
}

/**
 * Reads one certificate (PEM; a chain after it is ignored) and its private key (PEM, not
 * encrypted: a renewal runs unattended) and checks that they belong together.
 */
export function readPair(
  certText: string,
  keyText: string,
  names: { cert: string; key: string },
): CurrentPair {
  const der = readCertificateDer(certText, names.cert);
  const certificate = new X509Certificate(der);
  const key = readKey(keyText, names.key);
  if (!certificate.checkPrivateKey(key)) {
    throw new PairError(`${names.key} is not the key of ${names.cert}: give the pair that belongs together`);
  }
  return {
    certificate,
    der,
    subjectDer: subjectDerOf(der),
    key,
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
  };
}

/** The DER of the first PEM CERTIFICATE in the text; throws `PairError` when there is none. */
export function readCertificateDer(text: string, name: string): Buffer {
  const block = findPemBlocks(text).find((b) => b.label === 'CERTIFICATE');
  if (!block?.der) throw new PairError(`${name} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  try {
    new X509Certificate(block.der);
  } catch {
    throw new PairError(`${name}: the certificate cannot be read`);
  }
  return block.der;
}

function readKey(text: string, name: string): KeyObject {
  if (text.includes('ENCRYPTED')) {
    throw new PairError(
      `${name} is encrypted: renewal runs unattended, so the key must not be (protect it with mode 0600)`,
    );
  }
  try {
    return createPrivateKey(text);
  } catch {
    throw new PairError(`${name} is not a PEM private key`);
  }
}

/** TBSCertificate's subject: the sixth field when the version is present (v3), else the fifth. */
export function subjectDerOf(certDer: Buffer): Buffer {
  const tbs = readChildren(certDer, readTlv(certDer, 0))[0]!;
  const fields = readChildren(certDer, tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[4 + offset];
  if (!subject) throw new PairError('the certificate has no subject');
  return slice(certDer, subject);
}

/** Whether a certificate holds the public key of `key` (a private or public key). */
export function holdsKey(certificate: X509Certificate, key: KeyObject): boolean {
  const spki = (k: KeyObject) =>
    (k.type === 'public' ? k : createPublicKey(k)).export({ type: 'spki', format: 'der' });
  return spki(certificate.publicKey).equals(spki(key));
}
