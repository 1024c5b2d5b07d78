import type { SubjectEntry } from '../core/csr-policy.ts';
import { readChildren, readWhole } from './der.ts';
import { readName } from './subject-der.ts';

/** [0] EXPLICIT version, present in every v3 certificate. */
const VERSION_TAG = 0xa0;

/**
 * The subject attributes of a certificate (DER) as the CSR reader gives a CSR's, in order: so a
 * renewal's CSR can be compared with the certificate it renews. Throws `DerError` on a
 * certificate that is not strict DER (ours always are).
 */
export function certificateSubject(der: Buffer): SubjectEntry[] {
  const [tbs] = readChildren(der, readWhole(der));
  if (!tbs) throw new Error('the certificate has no tbsCertificate');
  const fields = readChildren(der, tbs);
  // version?, serialNumber, signature, issuer, validity, subject
  const subject = fields[(fields[0]?.tag === VERSION_TAG ? 1 : 0) + 4];
  if (!subject) throw new Error('the certificate has no subject');
  return readName(der, subject);
}
