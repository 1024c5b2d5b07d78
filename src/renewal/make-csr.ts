import { createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { encodeOid, encodeTlv, TAG } from '../ca/der.ts';

/** The key size of every renewal: what the Ons API policy asks for. */
export const RENEWAL_KEY_BITS = 4096;

const SHA256_WITH_RSA = encodeTlv(TAG.SEQUENCE, [
  encodeTlv(TAG.OID, encodeOid('1.2.840.113549.1.1.11')),
  encodeTlv(TAG.NULL, []),
]);
const VERSION_1 = encodeTlv(TAG.INTEGER, Buffer.from([0]));
/** No attributes: nothing is requested, the CA chooses every extension. */
const NO_ATTRIBUTES = encodeTlv(0xa0, []);

/** Makes a new RSA-4096 key on the thread pool (the event loop keeps running meanwhile). */
export async function newRenewalKey(): Promise<KeyObject> {
  const { privateKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: RENEWAL_KEY_BITS,
    publicExponent: 65537,
  });
  return privateKey;
}

/**
 * A PKCS#10 request in DER with `subjectDer` byte for byte (the current certificate's Name:
 * same attributes, order and string types) and the public key of `key`, signed
 * sha256WithRSAEncryption. Built by hand so nothing re-encodes the subject.
 */
export function buildCsr(subjectDer: Buffer, key: KeyObject): Buffer {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const info = encodeTlv(TAG.SEQUENCE, [VERSION_1, subjectDer, spki, NO_ATTRIBUTES]);
  const signature = sign('sha256', info, key);
  return encodeTlv(TAG.SEQUENCE, [
    info,
    SHA256_WITH_RSA,
    encodeTlv(TAG.BIT_STRING, [Buffer.from([0]), signature]),
  ]);
}
