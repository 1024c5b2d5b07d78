import { createHash } from 'node:crypto';
import { Job, type JobsOptions } from 'bullmq';
import { DEFAULT_MAX_TRANSIENT_ATTEMPTS } from '../core/github-retry.ts';
import type { CommentKind } from '../templates/comment-marker.ts';
import type { ApprovalJob, SigningJob, TicketUpdateJob } from './jobs.ts';
import { jobIds, RETRYING, type Queues } from './queues.ts';

/** The name of BullMQ's custom backoff that the github worker computes from GitHub's answer. */
export const GITHUB_BACKOFF = 'github';

const GITHUB_JOB: JobsOptions = {
  ...RETRYING,
  attempts: DEFAULT_MAX_TRANSIENT_ATTEMPTS,
  backoff: { type: GITHUB_BACKOFF },
};

/**
 * The id of a ticket update: derived from the comment it posts, so the same update is added once.
 * A status comment that is edited in place gets its content in the id too, so that a changed
 * status is a new update while an unchanged one is still added once.
 */
export function ticketUpdateId(kind: CommentKind, key: string | number, editedBody?: string): string {
  const base = jobIds.ticketUpdate(kind, key);
  if (editedBody === undefined) return base;
  return `${base}-${createHash('sha256').update(editedBody).digest('hex').slice(0, 16)}`;
}

export async function addTicketUpdate(
  queues: Queues,
  id: string,
  data: TicketUpdateJob,
  priority?: number,
): Promise<void> {
  await queues.github.add('ticket-update', data, { ...GITHUB_JOB, jobId: id, priority });
}

/** BullMQ runs a job with a priority only when no job without one waits. */
const FOLLOW_UP_PRIORITY = 10;

/** Queues a finished update's follow-up (its `followUp`), behind the updates without one. */
export async function addFollowUp(queues: Queues, done: TicketUpdateJob): Promise<void> {
  if (!done.followUp) return;
  const { jobId, operations } = done.followUp;
  const data = { ticket: done.ticket, operations, receivedAt: done.receivedAt };
  await addTicketUpdate(queues, jobId, data, FOLLOW_UP_PRIORITY);
}

/** Adds the signing of an approved request; concurrent approvals of one request add one job. */
export async function addSigning(queues: Queues, data: SigningJob): Promise<void> {
  await queues.signing.add('sign', data, { ...RETRYING, jobId: jobIds.sign(data.requestId) });
}

/**
 * Puts a waiting request in `approvals`, asleep until its first reminder (or its expiry), counted
 * from when the approvers were asked (`askedAt`); one already due runs at once.
 */
export async function addApproval(
  queues: Queues,
  data: ApprovalJob,
  dayMs: number,
  now = Date.now(),
): Promise<void> {
  const dueAt = data.askedAt + Math.min(data.reminderDays, data.expireDays) * dayMs;
  const delay = Math.max(0, dueAt - now);
  await queues.approvals.add('approval', data, {
    ...RETRYING,
    jobId: jobIds.approval(data.requestId),
    delay,
  });
}

/** Wakes the approval job of a decided request, so that it completes now rather than at its next reminder. */
export async function promoteApproval(queues: Queues, requestId: string): Promise<void> {
  // Promoting needs only the job's id, so the job is not read first (one round trip, not two).
  // Only a delayed job can be promoted; one that is running or done sees the decision itself.
  const job = new Job<ApprovalJob>(
    queues.approvals,
    'approval',
    {} as ApprovalJob,
    {},
    jobIds.approval(requestId),
  );
  await job.promote().catch(() => undefined);
}
