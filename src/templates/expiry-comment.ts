import { withMarker } from './comment-marker.ts';
import { code, dashboardLink } from './comment-text.ts';
import { formatUtc, plural } from './text.ts';

export interface ExpiryReminderCommentInput {
  /** The certificate's serial (hex): one reminder per certificate. */
  serial: string;
  commonName: string;
  notAfter: Date;
  now: Date;
  dashboardUrl: string;
}

/**
 * On the ticket a certificate came from: when it expires (or that it has) and how to renew it.
 * Mentions nobody; the supplier is e-mailed separately.
 */
export function expiryReminderComment(input: ExpiryReminderCommentInput): string {
  const left = input.notAfter.getTime() - input.now.getTime();
  const days = Math.floor(left / 86_400_000);
  const when = !Number.isFinite(days)
    ? 'expires soon'
    : left <= 0
      ? `expired on ${formatUtc(input.notAfter)}`
      : `expires on ${formatUtc(input.notAfter)}, ${days < 1 ? 'in less than a day' : `in ${plural(days, 'day')}`}`;
  return withMarker('expiry-reminder', input.serial, [
    `The certificate issued on this ticket, ${code(input.commonName)} with serial ${code(input.serial)}, ${when}.`,
    `To renew it, the supplier uploads a new CSR (with a new key) on the same line in ${dashboardLink(input.dashboardUrl)}: ` +
      "the healthcare organisation's consent is recorded, so it is signed right away, without a new ticket.",
  ]);
}
