import { and, eq, isNotNull } from 'drizzle-orm';
import type { Database } from '../db/database.ts';
import { certificateRequests } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { addApproval } from './enqueue.ts';
import type { ApprovalJob } from './jobs.ts';
import { jobIds, type Queues } from './queues.ts';

export interface RestoreDeps {
  db: Database;
  queues: Queues;
  log: Logger;
  /** The length of a day of reminder_days and expire_days. */
  dayMs: number;
  now: () => Date;
}

/**
 * Puts back the `approvals` job of every request still waiting for its organisation whose job
 * Redis no longer has (a Redis that lost its data: no append-only file, a failover), from the
 * data kept with the request when the approvers were asked. The job sleeps until its next
 * reminder or its expiry, as it would have; one that fell due meanwhile runs at once (and posts
 * one reminder for the missed ones). Returns how many were put back.
 */
export async function restoreApprovalJobs(deps: RestoreDeps): Promise<number> {
  const waiting = await deps.db
    .select({ id: certificateRequests.id, approval: certificateRequests.approval })
    .from(certificateRequests)
    .where(and(eq(certificateRequests.state, 'awaiting_approval'), isNotNull(certificateRequests.approval)));
  let restored = 0;
  for (const { id, approval } of waiting) {
    if ((await deps.queues.approvals.getJobState(jobIds.approval(id))) !== 'unknown') continue;
    if (!isApprovalJob(approval) || approval.requestId !== id) {
      deps.log.error(
        { requestId: id },
        'the approval kept with this request is unreadable; its job is not put back',
      );
      continue;
    }
    await addApproval(deps.queues, approval, deps.dayMs, deps.now().getTime());
    restored++;
  }
  if (restored > 0) deps.log.warn({ restored }, 'approval jobs that Redis no longer had were put back');
  return restored;
}

function isApprovalJob(value: unknown): value is ApprovalJob {
  const job = value as Partial<ApprovalJob> | null;
  return (
    typeof job?.requestId === 'string' &&
    typeof job.ticket?.owner === 'string' &&
    typeof job.ticket.repo === 'string' &&
    typeof job.ticket.number === 'number' &&
    typeof job.ticket.installationId === 'number' &&
    Array.isArray(job.approvers?.users) &&
    Array.isArray(job.approvers.teams) &&
    typeof job.reminderDays === 'number' &&
    typeof job.expireDays === 'number' &&
    typeof job.askedAt === 'number' &&
    typeof job.reminders === 'number'
  );
}
