import { code, dashboard, ours, paragraph, quoteOf, words, type Mail } from './blocks.ts';
import { certificateRows, renewalBlocks, type CertificateFacts } from './certificate-blocks.ts';
import { formatMailDate } from './mail-dates.ts';
import { renderMail } from './render-mail.ts';

/**
 * The e-mail that a certificate was disabled (product.md, flow 5), to the supplier: who, when
 * and why, what it means, how to undo it, and what to do when the key leaked.
 */

export interface CertificateDisabledMailInput extends CertificateFacts {
  /** Who disabled it, as recorded (a user's name or e-mail, or Nedap support). */
  by: string;
  /** Why, as they wrote it. */
  reason: string;
  /** When. */
  at: Date;
}

/** A certificate was disabled: it is on the CRL and connections with it fail. */
export function certificateDisabledMail(input: CertificateDisabledMailInput): Mail {
  const by = input.by.trim() ? input.by : 'someone';
  return renderMail(
    input.supplier,
    words`Your Ons API certificate for ${input.connector} (${input.customerCode}) has been disabled`,
    [
      paragraph`The client certificate below, of your connector ${code(input.connector)} for customer code ${code(input.customerCode)}, was disabled by ${by} on ${ours(formatMailDate(input.at))}, with this reason:`,
      quoteOf(input.reason),
      certificateRows(input),
      paragraph`Connections that use this certificate now fail at the Ons API gateway: it is on the certificate revocation list (CRL) of our CA.`,
      paragraph`If this was a mistake, the certificate can be enabled again from ${dashboard(input.dashboardUrl)}.`,
      paragraph`If its private key has leaked, do not use that key again: a CSR with the key of a disabled certificate is refused.`,
      ...renewalBlocks(input),
    ],
  );
}
