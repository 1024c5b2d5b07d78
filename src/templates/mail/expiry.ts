import { code, ours, paragraph, words, type Mail } from './blocks.ts';
import {
  certificateRows,
  environmentNote,
  renewalBlocks,
  type CertificateFacts,
} from './certificate-blocks.ts';
import { expiresIn, formatMailDate } from './mail-dates.ts';
import { renderMail } from './render-mail.ts';

/**
 * The e-mails about a certificate's end (product.md, flow 4): the reminder before it expires and
 * the notice once it has, both to the supplier's contact address, both saying how to get a new
 * certificate without a ticket.
 */

export interface ExpiryMailInput extends CertificateFacts {
  /** The time the mail is written, from which the days left are counted. */
  now: Date;
}

/**
 * The reminder that a certificate expires soon, with the days left (whole days, rounded down)
 * and how to renew. A certificate that has already expired at `now` gets `expiredMail` instead.
 */
export function expiryReminderMail(input: ExpiryMailInput): Mail {
  if (input.notAfter.getTime() <= input.now.getTime()) return expiredMail(input);
  const when = expiresIn(input.notAfter, input.now);
  return renderMail(
    input.supplier,
    words`Your Ons API certificate for ${input.connector} (${input.customerCode}) expires ${ours(when)}`,
    [
      paragraph`The client certificate of your connector ${code(input.connector)}, version ${code(input.version)}, for customer code ${code(input.customerCode)}${ours(environmentNote(input.customerCode))} expires on ${ours(formatMailDate(input.notAfter))}, ${ours(when)}. After that moment, the Ons API refuses connections that use it.`,
      certificateRows(input),
      ...renewalBlocks(input),
      paragraph`Install the new certificate in your connector before the current one expires. If this connection is no longer in use, nothing needs to be done.`,
    ],
  );
}

/** The notice that a certificate has expired: connections with it fail; how to get a new one. */
export function expiredMail(input: ExpiryMailInput): Mail {
  return renderMail(
    input.supplier,
    words`Your Ons API certificate for ${input.connector} (${input.customerCode}) has expired`,
    [
      paragraph`The client certificate of your connector ${code(input.connector)}, version ${code(input.version)}, for customer code ${code(input.customerCode)}${ours(environmentNote(input.customerCode))} expired on ${ours(formatMailDate(input.notAfter))}. Since then, connections that use it fail: the Ons API refuses an expired certificate.`,
      certificateRows(input),
      ...renewalBlocks(input),
      paragraph`If this connection is no longer in use, nothing needs to be done.`,
    ],
  );
}
