import { APPROVERS_FILE, type Approvers } from '../core/approvers-config.ts';
import { classifyCustomerCode } from '../core/customer-code.ts';
import { isGitHubLogin, isGitHubTeam } from '../core/github-names.ts';
import { withMarker } from './comment-marker.ts';
import { code, dashboardLink, plain, quoted } from './comment-text.ts';
import { inlineCode } from './markdown.ts';
import { plural } from './text.ts';

/**
 * The comments that ask the healthcare organisation's approvers to decide on a request: the
 * request with its summary, and the reminders while it waits. The approvers are the only real
 * mentions the bot writes.
 */

/** Upper bound on the ticket's Details answer in the request comment. */
const DETAILS_MAX = 8_000;

/**
 * The approvers as mentions, each once (GitHub compares logins and slugs in any case). Entries
 * come validated from the approvers file; one that is not a login or team anyway is written as
 * escaped text rather than risk a mention of someone else.
 */
export function approverMentions(approvers: Pick<Approvers, 'users' | 'teams'>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (name: string, valid: boolean) => {
    if (seen.has(name.toLowerCase())) return;
    seen.add(name.toLowerCase());
    out.push(valid ? `@${name}` : plain(name));
  };
  for (const user of approvers.users) {
    const login = user.trim().replace(/^@/, '');
    add(login, isGitHubLogin(login));
  }
  for (const team of approvers.teams) {
    const name = `${team.org.trim().replace(/^@/, '')}/${team.slug.trim()}`;
    add(name, isGitHubTeam(name));
  }
  return out;
}

/** `a`, `a and b`, `a, b and c`. */
function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

const HOW_TO_ANSWER =
  'Post a new comment on this ticket whose first line is one of:\n\n' +
  '- `/approve` (alone on its line) to approve this request;\n' +
  '- `/reject <reason>` to reject it, with the reason for the supplier after the command.\n\n' +
  'Commands in edited comments, quotes or code are not read. Only the approvers mentioned here can ' +
  "decide; the ticket's author and the supplier's own GitHub accounts cannot.";

export interface ApprovalRequestInput {
  requestId: string;
  /** The supplier's name. */
  supplier: string;
  /** The connector's technical name. */
  connector: string;
  version: string;
  customerCode: string;
  /** The organisation's name from the approvers file. */
  organisation: string;
  /**
   * The CSR's subject as stored: one line of RFC 4514 text from `formatSubject`, e.g.
   * `CN=…, OU=…, O=Zorg B.V.\, CN=x`; shown as inline code, which escapes it for Markdown.
   */
  csrSubject: string;
  /** The SHA-256 fingerprint the approval binds to. */
  csrSha256: string;
  /** The ticket's Details answer, if any. */
  details?: string | undefined;
  approvers: Pick<Approvers, 'users' | 'teams'>;
  expireDays: number;
  dashboardUrl: string;
}

/** Asks the organisation's approvers to decide, with the summary they decide on. */
export function approvalRequestComment(input: ApprovalRequestInput): string {
  const mentions = approverMentions(input.approvers);
  const kind = classifyCustomerCode(input.customerCode);
  const environment = kind.ok ? ` (${kind.kind})` : '';
  const summary = [
    `- Supplier: ${plain(input.supplier)}`,
    `- Connector: ${code(input.connector)}, version ${code(input.version)}`,
    `- Customer code: ${code(input.customerCode)}${environment}, of ${plain(input.organisation)}`,
    `- CSR subject: ${code(input.csrSubject, 1_000)}`,
    `- CSR SHA-256 fingerprint: ${code(input.csrSha256)}`,
  ].join('\n');
  const details = input.details?.trim()
    ? ['The supplier wrote under Details:', quoted(input.details, DETAILS_MAX)]
    : [];
  const whom =
    mentions.length > 0
      ? `${list(mentions)}: as approvers of ${plain(input.organisation)}, please decide on this request.`
      : `No approvers are listed for ${plain(input.organisation)}; Nedap support has to add them to ` +
        `${inlineCode(APPROVERS_FILE)} before anyone can decide.`;
  return withMarker('approval-request', input.requestId, [
    '## Certificate approval requested',
    `A supplier asks for a client certificate for the Ons API, for the environment of ${plain(input.organisation)}.`,
    summary,
    ...details,
    whom,
    HOW_TO_ANSWER,
    `An approval applies to exactly this CSR, SHA-256 fingerprint ${code(input.csrSha256)}: if the ` +
      'supplier changes the CSR before you decide, the approvers are asked again. Approving also gives ' +
      'consent for later renewals on this connector and customer code: a new CSR uploaded there is ' +
      'signed without a new ticket.',
    `If nobody answers within ${plural(input.expireDays, 'day')}, the request expires and this ticket is ` +
      `closed. The request's status is in ${dashboardLink(input.dashboardUrl)}.`,
  ]);
}

export interface ReminderInput {
  requestId: string;
  approvers: Pick<Approvers, 'users' | 'teams'>;
  daysWaiting: number;
  expiresInDays: number;
}

/** Mentions the approvers again while a request waits. */
export function reminderComment(input: ReminderInput): string {
  const mentions = approverMentions(input.approvers);
  const expires = input.expiresInDays <= 0 ? 'today' : `in ${plural(Math.ceil(input.expiresInDays), 'day')}`;
  const who = mentions.length > 0 ? `${list(mentions)}: a` : 'A';
  return withMarker('reminder', input.requestId, [
    `${who} friendly reminder that this certificate request has been waiting for a decision for ` +
      `${plural(Math.floor(input.daysWaiting), 'day')}. Please answer with a new comment whose first ` +
      'line is `/approve` or `/reject <reason>`; the summary is in the request comment above.',
    `If nobody answers, the request expires ${expires} and this ticket is closed.`,
  ]);
}
