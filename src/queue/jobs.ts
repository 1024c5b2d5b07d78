import type { CommentKind } from '../templates/comment-marker.ts';
import type { TicketRef } from '../services/tickets.ts';

/** A ticket and the app installation that may act on it. */
export interface InstallationTicket extends TicketRef {
  installationId: number;
}

/** One step of a ticket update; each is harmless to repeat. */
export type TicketOperation =
  /**
   * Posts a comment carrying the marker `kind:key` once. With `edit`, the bot's earlier comment
   * with that marker is edited in place instead (a status comment, not a comment storm).
   */
  | { op: 'comment'; kind: CommentKind; key: string; body: string; edit?: boolean }
  | { op: 'labels'; add: string[]; remove: string[] }
  /**
   * Leaves `label` as the ticket's only state label, keeping every label others set, and with
   * `close` closes the ticket with that reason: one read of the issue, then at most ONE write
   * (`PATCH /issues/{n}` with the whole label set, `state` and `state_reason`), none when the
   * ticket already is so. Repeating it is harmless (a retry after a lost answer writes the same).
   */
  | { op: 'state'; label: string; close?: CloseReason }
  /** Queued by earlier versions only (a decision is now one `state` operation); still carried out. */
  | { op: 'close'; reason: CloseReason }
  /** Queued by earlier versions only (decisions get no reaction: the comment answers); still carried out. */
  | { op: 'react'; commentId: number; content: '+1' | 'eyes' };

/** GitHub's `state_reason` of a closed ticket. */
export type CloseReason = 'completed' | 'not_planned';

/** A job of the `github` queue: ordered operations on one ticket. */
export interface TicketUpdateJob {
  ticket: InstallationTicket;
  operations: TicketOperation[];
  /** How many operations are done, so that a retry resumes after them. */
  done?: number;
  /** How often GitHub rate-limited this job so far: a limit without a wait time backs off. */
  rateLimited?: number;
  /** When the event that caused the update arrived (ms), for the pipeline's latency figures. */
  receivedAt?: number;
  /**
   * Operations queued once these are done, as a job of their own behind every update without
   * one (BullMQ priority): a ticket's reaction, labels and closing wait until the certificates
   * of other tickets are posted, and still come after this ticket's own comment.
   */
  followUp?: { jobId: string; operations: TicketOperation[] };
}

export interface Approver {
  login: string;
  id: number;
}

/** A job of the `signing` queue: an approved request to sign, then report on its ticket. */
export interface SigningJob {
  requestId: string;
  ticket: InstallationTicket;
  approver: Approver;
  /** The `/approve` comment; it gets a reaction once the certificate is posted. */
  commentId: number;
  /** The CSR fingerprint of the request when the approver approved it. */
  csrSha256: string;
  deliveryId: string;
  receivedAt: number;
}

/** A job of the `approvals` queue: a request waiting for the organisation. */
export interface ApprovalJob {
  requestId: string;
  ticket: InstallationTicket;
  approvers: { users: string[]; teams: { org: string; slug: string }[] };
  reminderDays: number;
  expireDays: number;
  /** When the approvers were first asked (ms since the epoch). */
  askedAt: number;
  /** Reminders posted so far. */
  reminders: number;
}

/** The labels the bot sets (product.md, "The ticket"). */
export const LABELS = {
  request: 'certificate-approval',
  needsInfo: 'needs-info',
  needsConfig: 'needs-config',
  awaiting: 'awaiting-approval',
  approved: 'approved',
  rejected: 'rejected',
  expired: 'expired',
} as const;

/** The labels that describe a ticket's state; setting one removes the others. */
export const STATE_LABELS: string[] = [
  LABELS.needsInfo,
  LABELS.needsConfig,
  LABELS.awaiting,
  LABELS.approved,
  LABELS.rejected,
  LABELS.expired,
];

/**
 * The operation that leaves `label` as the ticket's only state label. When `present` (the
 * ticket's labels in the webhook payload) has no other state label, adding it is one write and
 * no read; otherwise it is a `state` operation (one read, one `PATCH` with the whole set).
 */
export function stateLabel(label: string, present: readonly string[]): TicketOperation {
  const lower = new Set(present.map((l) => l.toLowerCase()));
  const others = STATE_LABELS.some((l) => l !== label && lower.has(l));
  return others ? { op: 'state', label } : { op: 'labels', add: [label], remove: [] };
}

/**
 * A decision's housekeeping: `label` as the only state label and the ticket closed with `reason`,
 * in one write (see the `state` operation).
 */
export function closeAs(label: string, reason: CloseReason): TicketOperation {
  return { op: 'state', label, close: reason };
}

/**
 * The ticket's labels with `label` as the only state label: the labels others set are kept (in
 * their order), ours are replaced. Compared without case, as GitHub does.
 */
export function withStateLabel(current: readonly string[], label: string): string[] {
  const ours = new Set(STATE_LABELS.map((l) => l.toLowerCase()));
  const kept = current.filter((l) => !ours.has(l.toLowerCase()));
  return [...kept, label];
}
