import type { RefusalReason } from '../core/may-approve.ts';
import { withMarker } from './comment-marker.ts';
import { code, dashboardLink, plain, quoted } from './comment-text.ts';
import { codeBlock } from './markdown.ts';
import { formatUtc, plural } from './text.ts';

/**
 * The bot's comments once someone acts on a request: replies to commands, and the outcome
 * (approved, renewed, rejected, expired, or asked again after the CSR changed). Same rules as
 * comment-text.ts: every value from someone else is escaped, quoted or code, and approvers
 * are named as text here (they acted; nobody needs to be called).
 */

export interface RefusalInput {
  /** The id of the comment with the command: one reply per command. */
  commentId: number;
  commenter: string;
  reason: RefusalReason;
  /** `mayDecide`'s message for the reason. */
  message: string;
}

const REFUSAL_FALLBACK: Record<RefusalReason, string> = {
  not_new_comment: 'Commands are only read from new comments.',
  bot: 'Commands from bots and apps are ignored.',
  ticket_author: 'The author of a ticket cannot decide on it.',
  supplier_login: "The supplier's own accounts cannot decide on its requests.",
  no_approvers: 'No approvers are listed for this customer code yet.',
  not_an_approver: 'Only the approvers of this customer code can decide.',
};

/** The one reply to a command its author may not give; nothing changes. */
export function refusalReply(input: RefusalInput): string {
  const message = input.message.trim() ? input.message : REFUSAL_FALLBACK[input.reason];
  return withMarker('refusal', input.commentId, [
    `The command from ${plain(input.commenter)} was not carried out, and nothing was changed. ` +
      plain(message, 1_000),
  ]);
}

export interface WrittenBeforeInput {
  /** The id of the comment with the command: one reply per command. */
  commentId: number;
  commenter: string;
  /** When the request the command would decide was made. */
  requestCreatedAt: Date;
}

/**
 * The reply to a command written before the request it would decide (an old comment replayed,
 * or delivered late): it cannot have meant this request, so nothing changes.
 */
export function writtenBeforeReply(input: WrittenBeforeInput): string {
  return withMarker('refusal', input.commentId, [
    `The command from ${plain(input.commenter)} was not carried out, and nothing was changed. ` +
      `This comment was written before the request it would decide (made ${formatUtc(input.requestCreatedAt)}), ` +
      'so it cannot be a decision on it: read the latest request comment and comment again.',
  ]);
}

export interface UnknownCommandInput {
  /** The id of the comment with the command. */
  commentId: number;
  commenter: string;
  /** The first word as typed, e.g. `/lgtm`. */
  word: string;
}

/** Explains the two commands to someone who typed another one. */
export function unknownCommandReply(input: UnknownCommandInput): string {
  const word = input.word.trim();
  const what =
    word.toLowerCase() === '/approve'
      ? 'was not read as an approval, because `/approve` must be alone on its line: anything after it ' +
        'makes the bot ignore it, so that an afterthought is never taken for consent.'
      : `was not understood: the bot does not know ${code(word, 60)}.`;
  return withMarker('unknown-command', input.commentId, [
    `The comment from ${plain(input.commenter)} ${what}`,
    'The bot knows two commands, each written as the first line of a new comment, by an approver of ' +
      'this customer code:\n\n' +
      '- `/approve` (alone on its line) approves the request;\n' +
      '- `/reject <reason>` rejects it, with the reason for the supplier after the command.',
  ]);
}

export interface ApprovedInput {
  requestId: string;
  /** The approver's GitHub login; named, not mentioned. */
  approver: string;
  pem: string;
  serial: string;
  fingerprintSha256: string;
  notBefore: Date;
  notAfter: Date;
  commonName: string;
  dashboardUrl: string;
}

/** What a certificate comment shows of a stored certificate (a row of the certificates table). */
export function certificateFacts(
  row: Pick<ApprovedInput, 'pem' | 'serial' | 'fingerprintSha256' | 'notBefore' | 'notAfter' | 'commonName'>,
): Pick<ApprovedInput, 'pem' | 'serial' | 'fingerprintSha256' | 'notBefore' | 'notAfter' | 'commonName'> {
  const { pem, serial, fingerprintSha256, notBefore, notAfter, commonName } = row;
  return { pem, serial, fingerprintSha256, notBefore, notAfter, commonName };
}

/** The signed certificate after `/approve`. */
export function approvedComment(input: ApprovedInput): string {
  return withMarker('approved', input.requestId, [
    '## Certificate issued',
    // A name never starts a line: the command parser skips the invisible guard escapeMarkdown puts before a `/`.
    `Approved by ${plain(input.approver)} for the healthcare organisation, so the CSR has been signed. ` +
      'The certificate:',
    certificate(input),
    renewal(input),
  ]);
}

export interface RenewedInput extends Omit<ApprovedInput, 'approver'> {
  /** The consent that made a ticket unnecessary, when known. */
  consent?: { approver: string; approvedAt: Date } | undefined;
}

/** The certificate for a line that already had consent: signed without asking anyone. */
export function renewedComment(input: RenewedInput): string {
  const given = input.consent
    ? ` (given by ${plain(input.consent.approver)} on ${formatUtc(input.consent.approvedAt)})`
    : '';
  return withMarker('renewed', input.requestId, [
    '## Certificate renewed',
    `The healthcare organisation already gave its consent for this connector and customer code${given}, ` +
      'so the CSR has been signed right away, without asking the approvers again. The certificate:',
    certificate(input),
    renewal(input),
  ]);
}

function certificate(input: Omit<ApprovedInput, 'approver'>): string {
  const facts = [
    `- Common name: ${code(input.commonName)}`,
    `- Serial: ${code(input.serial)}`,
    `- SHA-256 fingerprint: ${code(input.fingerprintSha256)}`,
    `- Valid from ${formatUtc(input.notBefore)} until ${formatUtc(input.notAfter)}`,
  ].join('\n');
  return `${facts}\n\n${codeBlock(input.pem)}\n\nSave the block above as a \`.pem\` file, or download it from ${dashboardLink(input.dashboardUrl)}.`;
}

function renewal(input: Pick<ApprovedInput, 'notAfter'>): string {
  return (
    `To renew before ${formatUtc(input.notAfter)}, upload a new CSR (with a new key) on the same line ` +
    "in the dashboard: the organisation's consent is recorded, so it is signed right away, without a ticket."
  );
}

export interface RejectedInput {
  requestId: string;
  /** The approver's GitHub login; named, not mentioned. */
  approver: string;
  /** The text after `/reject`. */
  reason: string;
}

/** The request was rejected; the reason is quoted. */
export function rejectedComment(input: RejectedInput): string {
  const reason = input.reason.trim() ? quoted(input.reason, 4_000) : '> (no reason given)';
  return withMarker('rejected', input.requestId, [
    '## Request rejected',
    `Rejected by ${plain(input.approver)} for the healthcare organisation, with this reason:`,
    reason,
    'No certificate was issued. The supplier may upload a new CSR in the dashboard and open a new ' +
      'ticket for it.',
  ]);
}

export interface ExpiredInput {
  requestId: string;
  expireDays: number;
}

/** Nobody decided in time. */
export function expiredComment(input: ExpiredInput): string {
  return withMarker('expired', input.requestId, [
    '## Request expired',
    `Nobody approved or rejected this request within ${plural(input.expireDays, 'day')}, so it has ` +
      'expired and no certificate was issued.',
    'To ask again, upload the CSR again in the dashboard and open a new ticket.',
  ]);
}

export interface CsrChangedInput {
  requestId: string;
}

/** The CSR changed before the decision, so the approvers are asked again. */
export function csrChangedComment(input: CsrChangedInput): string {
  return withMarker('csr-changed', input.requestId, [
    '## The CSR changed',
    'The CSR of this request changed before anyone decided. An approval applies to one CSR only, so ' +
      'the approvers are asked again, in a new request comment with the new fingerprint.',
  ]);
}
