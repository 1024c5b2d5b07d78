import { parseCustomerCode, type EnvironmentKind } from '../core/customer-code.ts';
import { opensslCommand } from '../core/csr-policy.ts';
import type { EnvironmentView, LineCertificateView } from '../services/environments.ts';
import type { Failure } from '../services/outcome.ts';
import { formatUtc } from '../templates/text.ts';
import { certificateCell, EXPIRING_DAYS, type CertificateCell } from './days-left.ts';
import { lineAnchor, paths } from './paths.ts';
import { newTicketUrl, ticketUrl } from './ticket-link.ts';

export type Tone = 'ok' | 'waiting' | 'problem' | 'none';

/** One certificate of a row: the current one first, then earlier ones that are still valid. */
export interface CertificateBlock extends CertificateCell {
  current: boolean;
  /** While disabled: when (UTC), why, and who by name when recorded. */
  disabled?: { at: string; atIso: string; reason: string; by?: string };
}

export interface LineView {
  customerCode: string;
  kind: EnvironmentKind;
  kindLabel: string;
  anchor: string;
  /** `state` is the latest request's state, or `none` before the first upload. */
  status: {
    state: string;
    label: string;
    tone: Tone;
    detail: string | undefined;
    /** The ticket the label names ("… on ticket #12"), linked when it is a GitHub issue. */
    ticket?: { label: string; url: string | undefined };
  };
  /** The refused CSR's violations, without the openssl command each may repeat (see `command`). */
  errors: Failure[];
  /** With `errors`: how to make a key and CSR that meet the policy, this line's CN filled in. */
  command: string | undefined;
  /** The current certificate (as before), and `certificates`: it and the earlier valid ones. */
  certificate: CertificateCell | undefined;
  certificates: CertificateBlock[];
  /** How and from when to renew, on a line with a certificate. */
  renewal: string | undefined;
  /** A line that never had a certificate and that no organisation is asked about can be deleted. */
  deletable: boolean;
  urls: { upload: string; download: string | undefined; enabled: string; delete: string };
  /**
   * Staging and production: the ticket of the request (when the status does not name it), and a
   * new prefilled one while a valid CSR waits without a ticket.
   */
  tickets: { current?: { label: string; url: string }; open?: string };
}

export interface TicketSettings {
  githubWebUrl: string;
  supportRepo: string | undefined;
}

/** What the rows say that depends on settings: REMINDER_DAYS, CSR_MIN_RSA_BITS. */
export interface TabSettings {
  reminderDays: number;
  minRsaBits: number;
}

const DEFAULT_SETTINGS: TabSettings = { reminderDays: EXPIRING_DAYS, minRsaBits: 4096 };
const DAY_MS = 24 * 60 * 60 * 1000;

const KIND_LABELS: Record<EnvironmentKind, string> = {
  development: 'Development',
  staging: 'Staging',
  production: 'Production',
};

/** What a violation's message says in place of the command, which the row shows once, below. */
export const COMMAND_BELOW = 'the command below';

/** The rows of the certificates tab, in plain words, as of `now`. */
export function tabLines(
  where: { technicalName: string; version: string },
  lines: EnvironmentView[],
  now: Date,
  tickets: TicketSettings,
  settings: TabSettings = DEFAULT_SETTINGS,
): LineView[] {
  return lines.map((line) => {
    const at = paths.line(where.technicalName, where.version, line.customerCode);
    const certificate = line.certificate && certificateCell(line.certificate, now, settings.reminderDays);
    const needsTicket = line.kind !== 'development';
    // The ticket of the latest request, or of the earlier one that still waits behind a refused upload.
    const ticket = line.request?.ticket ?? line.waiting?.ticket;
    const current = ticket ? ticketUrl(tickets.githubWebUrl, ticket) : undefined;
    const status = requestStatus(line, Boolean(tickets.supportRepo), tickets.githubWebUrl);
    const waitsWithoutTicket = line.request?.state === 'awaiting_approval' && !line.request.ticket;
    const command = opensslCommand({
      minRsaBits: settings.minRsaBits,
      connector: where.technicalName,
      customerCode: line.customerCode,
    });
    const errors = (line.request?.errors ?? []).map((e) => ({
      code: e.code,
      message: e.message.split(command).join(COMMAND_BELOW),
    }));
    const listed = line.certificates ?? (line.certificate ? [{ ...line.certificate, current: true }] : []);
    return {
      customerCode: line.customerCode,
      kind: line.kind,
      kindLabel: KIND_LABELS[line.kind],
      anchor: lineAnchor(line.customerCode),
      status,
      errors,
      command: errors.length > 0 ? command : undefined,
      certificate,
      certificates: listed.map((c) => certificateBlock(c, now, settings.reminderDays)),
      renewal: certificate && renewalText(line.kind, certificate, settings.reminderDays),
      deletable: !line.certificate && !asksOrganisation(line),
      urls: {
        upload: `${at}/csr`,
        download: certificate ? `${at}/certificate.pem` : undefined,
        enabled: `${at}/enabled`,
        delete: `${at}/delete`,
      },
      tickets: {
        ...(needsTicket && current && ticket && !status.ticket
          ? { current: { label: ticket, url: current } }
          : {}),
        ...(needsTicket && waitsWithoutTicket && tickets.supportRepo
          ? { open: newTicketUrl(tickets.githubWebUrl, tickets.supportRepo, { ...where, ...line }) }
          : {}),
      },
    };
  });
}

/** Whether an organisation is being asked about the line (a ticket on a waiting request), or approved it. */
function asksOrganisation(line: EnvironmentView): boolean {
  const requests = [line.request, line.waiting && { ...line.waiting, state: 'awaiting_approval' }];
  return requests.some((r) => r && ((r.state === 'awaiting_approval' && r.ticket) || r.state === 'approved'));
}

function certificateBlock(c: LineCertificateView, now: Date, reminderDays: number): CertificateBlock {
  return {
    ...certificateCell(c, now, reminderDays),
    current: c.current,
    ...(c.disabled
      ? {
          disabled: {
            at: formatUtc(new Date(c.disabled.at)),
            atIso: c.disabled.at,
            reason: c.disabled.reason,
            ...(c.disabled.by ? { by: c.disabled.by } : {}),
          },
        }
      : {}),
  };
}

/**
 * How to renew (a new CSR with a new key, signed at once: on a development line always, on a
 * staging or production line because the organisation's consent stands) and from when.
 */
export function renewalText(kind: EnvironmentKind, c: CertificateCell, reminderDays: number): string {
  const how =
    'upload a new CSR made with a new key (the key of a certificate is never certified again); it is signed at once' +
    (kind === 'development' ? '.' : " on the organisation's consent for this line, without a new ticket.");
  if (c.expired) return `This certificate has expired. For a new one, ${how}`;
  if (c.expiringSoon) return `Renew now, before ${c.notAfter.date}: ${how}`;
  const from = new Date(new Date(c.notAfter.iso).getTime() - reminderDays * DAY_MS)
    .toISOString()
    .slice(0, 10);
  return `Renew from ${from} (${reminderDays} days before it expires, when this row says "renew soon" and a reminder is e-mailed): ${how}`;
}

/** The latest request's state as the supplier reads it, with what to do next. */
export function requestStatus(
  line: EnvironmentView,
  supportRepoSet: boolean,
  githubWebUrl = 'https://github.com',
): LineView['status'] {
  const request = line.request;
  const described = describeRequest(line, supportRepoSet);
  const ticket = request?.state === 'awaiting_approval' ? request.ticket : undefined;
  if (!ticket) return { state: request?.state ?? 'none', ...described };
  // "… on ticket #12": the number is what a supplier recognises; the link says the repository.
  const number = /#(\d+)$/.exec(ticket)?.[1];
  return {
    state: request!.state,
    ...described,
    label: `${described.label} on ticket`,
    ticket: { label: number ? `#${number}` : ticket, url: ticketUrl(githubWebUrl, ticket) },
  };
}

function describeRequest(
  line: EnvironmentView,
  supportRepoSet: boolean,
): Omit<LineView['status'], 'state' | 'ticket'> {
  const request = line.request;
  if (!request) {
    return {
      label: 'No CSR uploaded yet',
      tone: 'none',
      detail:
        line.kind === 'development'
          ? 'Upload a CSR: it is signed at once.'
          : 'Upload a CSR; then open a support ticket, on which the healthcare organisation approves it.',
    };
  }
  switch (request.state) {
    case 'signed':
      return { label: 'Signed', tone: 'ok', detail: undefined };
    case 'awaiting_approval':
      // No ticket yet: nobody has been asked, so the supplier's move is next, not the organisation's.
      if (!request.ticket) {
        return {
          label: 'CSR accepted: next, open the support ticket',
          tone: 'waiting',
          detail: supportRepoSet
            ? 'Open a support ticket with the link below: the organisation approves the CSR on it.'
            : "Open a ticket in Nedap's support portal with the connector, the version and this customer code: " +
              'the organisation approves the CSR on it.',
        };
      }
      return {
        label: "Waiting for the organisation's approval",
        tone: 'waiting',
        detail: 'The ticket asks the organisation; nothing to do meanwhile.',
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
          ? "Fix what is listed below and upload a new CSR. Your earlier CSR still waits for the organisation's approval" +
            `${line.waiting.ticket ? ` (ticket ${line.waiting.ticket})` : ''}; a valid new CSR replaces it.`
          : 'Fix what is listed below and upload a new CSR.',
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
 * The message after an action (Post/Redirect/Get: `?done=<action>&line=<code>[&serial=<serial>]`),
 * from a fixed set of texts and the row's state now; nothing from the query is shown unless it
 * is a line (or, once deleted, a well-formed code that is no longer one) or one of its serials.
 */
export function noticeFor(
  done: unknown,
  code: unknown,
  lines: LineView[],
  serial?: unknown,
): Notice | undefined {
  if (done === 'deleted' && typeof code === 'string') {
    const parsed = parseCustomerCode(code);
    const gone = parsed.ok && parsed.code === code && !lines.some((l) => l.customerCode === code);
    return gone ? { tone: 'ok', text: `${code} was deleted.` } : undefined;
  }
  const line = lines.find((l) => l.customerCode === code);
  if (!line) return undefined;
  const c = line.customerCode;
  const which = line.certificates.find((b) => b.serial === serial && !b.current);
  const certificate = which ? `The earlier certificate ${which.serial} of ${c}` : `The certificate of ${c}`;
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
      if (line.status.state === 'awaiting_approval' && !line.status.ticket) {
        return {
          tone: 'waiting',
          text: `The CSR for ${c} meets the requirements. Next: open the support ticket, so that the organisation can approve it.`,
        };
      }
      return { tone: 'waiting', text: `The CSR for ${c} waits for the organisation's approval.` };
    case 'disabled':
      return { tone: 'ok', text: `${certificate} is disabled.` };
    case 'enabled':
      return { tone: 'ok', text: `${certificate} is enabled again.` };
    default:
      return undefined;
  }
}
