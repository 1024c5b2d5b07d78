import { DerError, readChildren, readOid, readTlv, readWhole, slice, TAG } from '../ca/der.ts';

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The certificates of an EST "certs-only" answer (RFC 7030 §4.1.3, §4.2.3): base64 (any line
 * breaks) of a DER ContentInfo holding a degenerate SignedData. Throws `DerError` with fixed
 * words when the body is not one; the certificates' own contents are read by the caller.
 */
export function readCertsOnly(body: string): Buffer[] {
  const text = body.replace(/\s+/g, '');
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new DerError('the answer is not base64');
  }
  const der = Buffer.from(text, 'base64');
  const contentInfo = readWhole(der);
  const [type, explicit] = contentInfo.tag === TAG.SEQUENCE ? readChildren(der, contentInfo) : [];
  if (!type || !explicit || readOid(der, type) !== SIGNED_DATA || explicit.tag !== 0xa0) {
    throw new DerError('the answer is not a PKCS#7 SignedData');
  }
  const signedData = readTlv(der, explicit.contentStart, explicit.end);
  if (signedData.tag !== TAG.SEQUENCE || signedData.end !== explicit.end) {
    throw new DerError('the answer is not a PKCS#7 SignedData');
  }
  const fields = readChildren(der, signedData);
  const certificates = fields.find((field) => field.tag === 0xa0);
  if (!certificates) return [];
  return readChildren(der, certificates).map((certificate) => {
    if (certificate.tag !== TAG.SEQUENCE)
      throw new DerError('an entry in the certificates is not a certificate');
    return slice(der, certificate);
  });
}
