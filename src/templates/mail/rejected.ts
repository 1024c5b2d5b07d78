import { code, dashboard, ours, paragraph, quoteOf, words, type Block, type Mail } from './blocks.ts';
import { environmentNote } from './certificate-blocks.ts';
import { safeHref } from './mail-text.ts';
import { renderMail } from './render-mail.ts';

/**
 * The e-mail that the healthcare organisation rejected a certificate request (product.md,
 * flow 2), to the supplier: who, why (quoted), and what to do next.
 */

export interface RequestRejectedMailInput {
  supplier: string;
  /** The connector's technical name. */
  connector: string;
  version: string;
  customerCode: string;
  /** The text after `/reject`. */
  reason: string;
  /** The approver's GitHub login, named as text. */
  approver: string;
  dashboardUrl: string;
  /** The ticket, e.g. `nedap/support#123` or its URL. */
  ticket?: string | undefined;
}

/** No certificate: the request was rejected, with the reason quoted. */
export function requestRejectedMail(input: RequestRejectedMailInput): Mail {
  const approver = input.approver.trim() ? input.approver : 'an approver';
  const ticket = input.ticket?.trim() ? ticketBlock(input.ticket.trim()) : [];
  return renderMail(
    input.supplier,
    words`Your certificate request for ${input.connector} (${input.customerCode}) was rejected`,
    [
      paragraph`Your request for an Ons API client certificate for connector ${code(input.connector)}, version ${code(input.version)}, customer code ${code(input.customerCode)}${ours(environmentNote(input.customerCode))} was rejected by ${approver} for the healthcare organisation, with this reason:`,
      quoteOf(input.reason),
      ...ticket,
      paragraph`No certificate was issued. If you can resolve the reason, upload a new CSR on the same line in ${dashboard(input.dashboardUrl)} and open a new ticket for it; the approvers are then asked again. If the reason is unclear, please contact the healthcare organisation.`,
    ],
  );
}

function ticketBlock(ticket: string): Block[] {
  const href = safeHref(ticket);
  return href === undefined
    ? [paragraph`Ticket: ${code(ticket)}`]
    : [paragraph`Ticket: ${{ link: href, words: href }}`];
}
