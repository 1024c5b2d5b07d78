import type { EnvironmentKind } from '../core/customer-code.ts';
import type { EnvironmentView } from '../services/environments.ts';
import type { Failure } from '../services/outcome.ts';
import { certificateCell, type CertificateCell } from './days-left.ts';
import { lineAnchor, paths } from './paths.ts';
import { newTicketUrl, ticketUrl } from './ticket-link.ts';

export type Tone = 'ok' | 'waiting' | 'problem' | 'none';

export interface LineView {
  customerCode: string;
  kind: EnvironmentKind;
  kindLabel: string;
  anchor: string;
  /** `state` is the latest request's state, or `none` before the first upload. */
  status: { state: string; label: string; tone: Tone; detail: string | undefined };
  errors: Failure[];
  certificate: CertificateCell | undefined;
  urls: { upload: string; download: string | undefined; enabled: string };
  /** Staging and production: the ticket that asks for the latest request, and a new prefilled one. */
  tickets: { current?: { label: string; url: string }; open?: string };
}

export interface TicketSettings {
  githubWebUrl: string;
  supportRepo: string | undefined;
}

const KIND_LABELS: Record<EnvironmentKind, string> = {
  development: 'Development',
  staging: 'Staging',
  production: 'Production',
};

/** The rows of the certificates tab, in plain words, as of `now`. */
export function tabLines(
  where: { technicalName: string; version: string },
  lines: EnvironmentView[],
  now: Date,
  tickets: TicketSettings,
): LineView[] {
  return lines.map((line) => {
    const at = paths.line(where.technicalName, where.version, line.customerCode);
    const certificate = line.certificate && certificateCell(line.certificate, now);
    const needsTicket = line.kind !== 'development';
    // The ticket of the latest request, or of the earlier one that still waits behind a refused upload.
    const ticket = line.request?.ticket ?? line.waiting?.ticket;
    const current = ticket ? ticketUrl(tickets.githubWebUrl, ticket) : undefined;
    return {
      customerCode: line.customerCode,
      kind: line.kind,
      kindLabel: KIND_LABELS[line.kind],
      anchor: lineAnchor(line.customerCode),
      status: requestStatus(line, Boolean(tickets.supportRepo)),
      errors: line.request?.errors ?? [],
      certificate,
      urls: {
        upload: `${at}/csr`,
        download: certificate ? `${at}/certificate.pem` : undefined,
        enabled: `${at}/enabled`,
      },
      tickets: {
        ...(needsTicket && current && ticket ? { current: { label: ticket, url: current } } : {}),
        ...(needsTicket && tickets.supportRepo
          ? { open: newTicketUrl(tickets.githubWebUrl, tickets.supportRepo, { ...where, ...line }) }
          : {}),
      },
    };
  });
}

/** The latest request's state as the supplier reads it, with what to do next. */
export function requestStatus(line: EnvironmentView, supportRepoSet: boolean): LineView['status'] {
  const request = line.request;
  return { state: request?.state ?? 'none', ...describeRequest(line, supportRepoSet) };
}

function describeRequest(line: EnvironmentView, supportRepoSet: boolean): Omit<LineView['status'], 'state'> {
  const request = line.request;
  const ticketHint = supportRepoSet
    ? 'Open a support ticket (the link on this row) so that the organisation can approve it.'
    : "Open a ticket in Nedap's support portal with the connector, the version and this customer code.";
  if (!request) {
    return {
      label: 'No CSR uploaded yet',
      tone: 'none',
      detail:
        line.kind === 'development'
          ? 'Upload a CSR: it is signed at once.'
          : 'Upload a CSR; it then waits for the approval of the healthcare organisation.',
    };
  }
  switch (request.state) {
    case 'signed':
      return { label: 'Signed', tone: 'ok', detail: undefined };
    case 'awaiting_approval':
      return {
        label: "Waiting for the organisation's approval",
        tone: 'waiting',
        detail: request.ticket ? 'The ticket asks the organisation; nothing to do meanwhile.' : ticketHint,
      };
    case 'approved':
      return { label: 'Approved, being signed', tone: 'waiting', detail: 'Reload the page in a moment.' };
    case 'rejected':
      return {
        label: 'Rejected by the organisation',
        tone: 'problem',
        detail: `${request.reason ? `Their reason: "${request.reason}". ` : ''}Upload a new CSR and open a new ticket if you still need access.`,
      };
    case 'expired':
      return {
        label: 'Expired: nobody approved it in time',
        tone: 'problem',
        detail: 'Upload the CSR again and open a new ticket.',
      };
    case 'invalid':
      return {
        label: 'Refused: the CSR does not meet the requirements',
        tone: 'problem',
        detail: line.waiting
          ? "Fix what is listed and upload a new CSR. Your earlier CSR still waits for the organisation's approval" +
            `${line.waiting.ticket ? ` (ticket ${line.waiting.ticket})` : ''}; a valid new CSR replaces it.`
          : 'Fix what is listed and upload a new CSR.',
      };
    case 'superseded':
      return { label: 'Replaced by a newer CSR', tone: 'none', detail: undefined };
    default:
      return { label: request.state.replace(/_/g, ' '), tone: 'none', detail: undefined };
  }
}

export interface Notice {
  text: string;
  tone: Tone;
}

/**
 * The message after an action (Post/Redirect/Get: `?done=<action>&line=<code>`), from a fixed
 * set of texts and the row's state now; nothing from the query is shown unless it is a line.
 */
export function noticeFor(done: unknown, code: unknown, lines: LineView[]): Notice | undefined {
  const line = lines.find((l) => l.customerCode === code);
  if (!line) return undefined;
  const c = line.customerCode;
  switch (done) {
    case 'added':
      return { tone: 'ok', text: `${c} was added. Upload a CSR on its row.` };
    case 'uploaded':
      if (line.status.tone === 'problem') {
        return { tone: 'problem', text: `The CSR for ${c} was refused: its row says what to fix.` };
      }
      if (line.status.state === 'signed') {
        return { tone: 'ok', text: `The CSR for ${c} was signed: download the PEM file on its row.` };
      }
      return { tone: 'waiting', text: `The CSR for ${c} waits for the organisation's approval.` };
    case 'disabled':
      return { tone: 'ok', text: `The certificate of ${c} is disabled.` };
    case 'enabled':
      return { tone: 'ok', text: `The certificate of ${c} is enabled again.` };
    default:
      return undefined;
  }
}
