import type { CommentKind } from '../templates/ticket-comments.ts';
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
  | { op: 'close'; reason: 'completed' | 'not_planned' }
  | { op: 'react'; commentId: number; content: '+1' | 'eyes' };

/** A job of the `github` queue: ordered operations on one ticket. */
export interface TicketUpdateJob {
  ticket: InstallationTicket;
  operations: TicketOperation[];
  /** How many operations are done, so that a retry resumes after them. */
  done?: number;
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
 * Label operation that leaves `label` as the ticket's only state label, removing those of
 * `present` (the ticket's labels as last seen) that say otherwise: one call per label, so only
 * the ones there.
 */
export function stateLabel(label: string, present: readonly string[]): TicketOperation {
  const lower = new Set(present.map((l) => l.toLowerCase()));
  return { op: 'labels', add: [label], remove: STATE_LABELS.filter((l) => l !== label && lower.has(l)) };
}
