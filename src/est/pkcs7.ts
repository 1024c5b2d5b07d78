import { encodeOid, encodeTlv, TAG } from '../ca/der.ts';

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const DATA = '1.2.840.113549.1.7.1';
/** [0] EXPLICIT (content) and [0] IMPLICIT SET OF (certificates): both constructed context tag 0. */
const CONTEXT_0 = 0xa0;

/**
 * A "certs-only" CMS message (RFC 5652 SignedData with no content and no signers, the
 * degenerate PKCS#7 of RFC 7030 §4.1.3 and §4.2.3): how EST hands out certificates. DER (the
 * certificates sorted, as DER orders a SET OF); OpenSSL reads it with
 * `openssl pkcs7 -inform DER -print_certs`.
 */
export function certsOnly(certificatesDer: readonly Buffer[]): Buffer {
  const sorted = [...certificatesDer].sort(Buffer.compare);
  const signedData = encodeTlv(TAG.SEQUENCE, [
    // version 1: no attribute certificates, no other formats, id-data as the content type.
    encodeTlv(TAG.INTEGER, Buffer.from([1])),
    encodeTlv(TAG.SET, []), // digestAlgorithms: none, nothing is signed
    encodeTlv(TAG.SEQUENCE, [encodeTlv(TAG.OID, encodeOid(DATA))]), // encapContentInfo, no eContent
    encodeTlv(CONTEXT_0, sorted),
    encodeTlv(TAG.SET, []), // signerInfos: none
  ]);
  return encodeTlv(TAG.SEQUENCE, [
    encodeTlv(TAG.OID, encodeOid(SIGNED_DATA)),
    encodeTlv(CONTEXT_0, signedData),
  ]);
}

/**
 * Base64 in lines of 64 characters, each ended by LF: EST clients ignore line breaks, and with
 * LF (not MIME's CRLF) `base64 -d` reads the body as it comes.
 */
export function base64Lines(der: Buffer): string {
  return (der.toString('base64').match(/.{1,64}/g) ?? []).map((line) => `${line}\n`).join('');
}
