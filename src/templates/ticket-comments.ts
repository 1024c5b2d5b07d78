import { APPROVERS_FILE, type Approvers } from '../core/approvers-config.ts';
import { classifyCustomerCode, DEVELOPMENT_CUSTOMER_CODE } from '../core/customer-code.ts';
import { isGitHubLogin, isGitHubTeam } from '../core/github-names.ts';
import { escapeMarkdown, inlineCode, quoteBlock } from './markdown.ts';

/**
 * The bot's comments on a certificate approval ticket (product.md, "The ticket"), as pure
 * functions returning GitHub-flavoured Markdown. The comments about a decision (approved,
 * renewed, rejected, expired, CSR changed) are in decision-comments.ts.
 *
 * Every value from a supplier, a ticket or GitHub goes through markdown.ts: inline values
 * flattened to one line and escaped (or as inline code), free text quoted. The only real
 * mentions are the approvers, from the validated approvers file. Values are shortened so that
 * a comment stays well inside GitHub's limit of 65,536 characters.
 *
 * Each comment ends with a hidden marker line, `<!-- ons-certs:<kind>:<key> -->`, by which the
 * bot finds its own comment again (to edit it, or to not post it twice).
 */

/** The kinds of comment, as written in the marker. */
export const COMMENT_KINDS = [
  'approval-request',
  'reminder',
  'needs-info',
  'development-code',
  'needs-config',
  'broken-config',
  'author-not-registered',
  'approved',
  'renewed',
  'rejected',
  'expired',
  'csr-changed',
  'refusal',
  'unknown-command',
  'expiry-reminder',
] as const;

export type CommentKind = (typeof COMMENT_KINDS)[number];

/** What a marker holds; `key` is the request id, the issue number or the answered comment's id. */
export interface StatusMarker {
  kind: CommentKind;
  key: string;
}

const KINDS: ReadonlySet<string> = new Set(COMMENT_KINDS);
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const MARKER = /^<!-- ons-certs:([a-z-]{1,40}):([A-Za-z0-9._-]{1,100}) -->$/;

/**
 * The marker line for a comment. Keys are ours (a request's UUID, an issue or comment number),
 * so a key the marker cannot carry is a bug and throws a TypeError.
 */
export function statusMarker(kind: CommentKind, key: string | number): string {
  const text = String(key);
  const validKey = typeof key === 'number' ? Number.isSafeInteger(key) && key >= 0 : KEY.test(text);
  if (!KINDS.has(kind) || !validKey) throw new TypeError(`cannot mark a comment with ${kind}:${text}`);
  return `<!-- ons-certs:${kind}:${text} -->`;
}

/**
 * The marker of a comment body, read from its last non-blank line only (so that a marker inside
 * quoted or code text earlier in a comment is never taken for it). Undefined for anything else;
 * never throws.
 */
export function findMarker(body: unknown): StatusMarker | undefined {
  if (typeof body !== 'string') return undefined;
  const trimmed = body.trimEnd();
  const lastLine = trimmed.slice(Math.max(trimmed.lastIndexOf('\n'), trimmed.lastIndexOf('\r')) + 1).trim();
  if (lastLine.length > 200) return undefined;
  const match = MARKER.exec(lastLine);
  const kind = match?.[1];
  const key = match?.[2];
  if (kind === undefined || key === undefined || !KINDS.has(kind) || !KEY.test(key)) return undefined;
  return { kind: kind as CommentKind, key };
}

/** The comment's text and its marker, apart by a blank line so the marker is its own HTML block. */
export function withMarker(kind: CommentKind, key: string | number, paragraphs: string[]): string {
  return `${paragraphs.join('\n\n')}\n\n${statusMarker(kind, key)}`;
}

/** Upper bounds on what other people's text may take up in a comment. */
const SHORT = 200;
const DETAILS_MAX = 8_000;
const PROBLEMS_MAX = 40;
const PROBLEM_MAX = 500;

/** Cuts text to `max` characters (not in the middle of a surrogate pair), marking the cut. */
export function shorten(value: string, max: number): string {
  if (value.length <= max) return value;
  const cut = /[\uD800-\uDBFF]$/.test(value.slice(0, max)) ? max - 1 : max;
  return `${value.slice(0, cut)}…`;
}

/** A value from someone else as escaped text on one line, for the middle of a sentence. */
export function plain(value: string, max = SHORT): string {
  return escapeMarkdown(shorten(value, max).replace(/[\r\n\u0085\u2028\u2029]+/g, ' '));
}

/** A value from someone else as inline code (a name, code, fingerprint or serial). */
export function code(value: string, max = SHORT): string {
  return inlineCode(shorten(value, max));
}

/** Free text quoted as a block, with a note when it had to be shortened. */
export function quoted(value: string, max: number): string {
  if (value.length <= max) return quoteBlock(value);
  return `${quoteBlock(shorten(value, max))}\n\n(Shortened here; the full text is in the ticket.)`;
}

/**
 * A link to the dashboard. The URL is our own configuration; one that is not http(s) is shown
 * as plain words instead of failing the comment.
 */
export function dashboardLink(url: string, words = 'the certificates dashboard'): string {
  let href: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return words;
    href = parsed.href.replace(/\(/g, '%28').replace(/\)/g, '%29');
  } catch {
    return words;
  }
  return `[${words}](${href})`;
}

/** `1 day`, `3 days`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** A point in time as `2025-05-01 12:00:00 UTC`. */
export function formatUtc(date: Date): string {
  if (Number.isNaN(date.getTime())) return 'an unknown time';
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

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

/** One escaped list item per message, sentence-cased; more than `PROBLEMS_MAX` are counted. */
function problemList(problems: string[], format: (problem: string) => string): string {
  const shown = problems.slice(0, PROBLEMS_MAX).map((p) => `- ${format(shorten(p, PROBLEM_MAX))}`);
  const more = problems.length - PROBLEMS_MAX;
  if (more > 0) shown.push(`- …and ${plural(more, 'more problem')}.`);
  return shown.join('\n');
}

function sentence(problem: string): string {
  const text = problem.trim().replace(/^[a-z]/, (c) => c.toUpperCase());
  return plain(/[.!?…]$/.test(text) ? text : `${text}.`, PROBLEM_MAX + 1);
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

export interface NeedsInfoInput {
  issueNumber: number;
  /** The problems' messages, e.g. `TicketProblem.message`. */
  problems: string[];
}

/** Lists every problem with the ticket that the supplier has to fix. */
export function needsInfoComment(input: NeedsInfoInput): string {
  return withMarker('needs-info', input.issueNumber, [
    '## This ticket needs more information',
    'The bot cannot ask for approval yet, because of the following:',
    problemList(input.problems, sentence),
    "Please edit the ticket's description to fix these; the bot checks the ticket again after every " +
      'edit, so no new ticket is needed.',
  ]);
}

export interface DevelopmentCodeInput {
  issueNumber: number;
  customerCode: string;
  dashboardUrl: string;
}

/** The development code needs no ticket: its certificates are signed in the dashboard. */
export function developmentCodeComment(input: DevelopmentCodeInput): string {
  return withMarker('development-code', input.issueNumber, [
    `${code(input.customerCode)} is Nedap's development environment (${inlineCode(DEVELOPMENT_CUSTOMER_CODE)}). ` +
      'Development certificates need no approval and no ticket: upload the CSR on the ' +
      `${inlineCode(DEVELOPMENT_CUSTOMER_CODE)} line of your connector version in ` +
      `${dashboardLink(input.dashboardUrl)}; it is signed right away and the PEM file can be downloaded there.`,
    'Nothing else happens on this ticket. For a staging or production environment, open a ticket with ' +
      "that environment's customer code (e.g. TE1234 or CF1234).",
  ]);
}

export interface NeedsConfigInput {
  issueNumber: number;
  customerCode: string;
}

/** No organisation lists the customer code: Nedap support has to add it. */
export function needsConfigComment(input: NeedsConfigInput): string {
  return withMarker('needs-config', input.issueNumber, [
    `No healthcare organisation lists the customer code ${code(input.customerCode)} in ` +
      `${inlineCode(APPROVERS_FILE)}, so the bot does not know whom to ask for approval.`,
    "Nedap support: please add the code to the organisation's `customer_codes` in that file, on the " +
      'default branch, and then edit this ticket (any change) to have it checked again.',
    "Supplier: if the code is not the one the organisation gave you, correct the ticket's Customer " +
      'code; the bot checks the ticket again after every edit.',
  ]);
}

export interface BrokenConfigInput {
  issueNumber: number;
  /** From `parseApproversConfig`, each naming its place in the file. */
  problems: string[];
}

/** The approvers file cannot be used; names each problem for Nedap support. */
export function brokenConfigComment(input: BrokenConfigInput): string {
  return withMarker('broken-config', input.issueNumber, [
    `The approvers file ${inlineCode(APPROVERS_FILE)} has problems, so the bot cannot tell who may ` +
      'approve this request:',
    problemList(input.problems, configProblem),
    'Nedap support: please fix the file on the default branch, then edit this ticket (any change) to ' +
      'have it checked again. Nothing is needed from the supplier.',
  ]);
}

/** `organisations[1].name: must not be empty` shows its place as code. */
function configProblem(problem: string): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*(?:\[\d+\]|\.[A-Za-z0-9_]+)*): (.*)$/s.exec(problem);
  if (!match) return plain(problem, PROBLEM_MAX + 1);
  return `${code(match[1] ?? '')}: ${plain(match[2] ?? '', PROBLEM_MAX + 1)}`;
}

export interface AuthorNotRegisteredInput {
  issueNumber: number;
  /** The ticket author's GitHub login. */
  author: string;
  /** The name of the connector's supplier. */
  supplier: string;
}

/** The ticket's author may not ask on the supplier's behalf. */
export function authorNotRegisteredComment(input: AuthorNotRegisteredInput): string {
  return withMarker('author-not-registered', input.issueNumber, [
    `The GitHub account ${plain(input.author)}, which opened this ticket, is not registered for ` +
      `${plain(input.supplier)}, the supplier of this connector. Only a supplier's registered GitHub ` +
      "accounts can ask for its connectors' certificates, so that nobody can ask on a supplier's behalf.",
    "To fix this, ask your company's administrator for the dashboard or Nedap support to register " +
      'your GitHub login for the supplier, then edit this ticket (any change) to have it checked again. ' +
      'A colleague whose login is registered may also open the ticket instead.',
  ]);
}

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
