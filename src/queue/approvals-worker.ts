import { DelayedError, type Job } from 'bullmq';
import { requestById } from '../db/repositories/certificates.ts';
import type { Logger } from '../log.ts';
import type { ServiceContext } from '../services/context.ts';
import { expireRequest } from '../services/tickets.ts';
import { expiredComment } from '../templates/decision-comments.ts';
import { reminderComment } from '../templates/approval-comments.ts';
import { addTicketUpdate, ticketUpdateId } from './enqueue.ts';
import { closeAs, LABELS, type ApprovalJob } from './jobs.ts';
import type { Queues } from './queues.ts';

export interface ApprovalsDeps {
  services: ServiceContext;
  queues: Queues;
  log: Logger;
  /** The length of a day of reminder_days and expire_days. */
  dayMs: number;
}

/**
 * An `approvals` job sleeps (delayed) until the next reminder is due. Each time it wakes it
 * looks at the request: decided → done; past `expire_days` → expired and the ticket closed;
 * a reminder due → the approvers are mentioned again; then it sleeps until the next one. A
 * decision promotes it, so it completes at once instead of at the next reminder.
 */
export function processApproval(deps: ApprovalsDeps) {
  return async (job: Job<ApprovalJob>, token?: string): Promise<{ outcome: string }> => {
    const data = job.data;
    const log = deps.log.child({ job: job.id, requestId: data.requestId });
    const request = await requestById(deps.services.db, data.requestId);
    if (!request || request.state !== 'awaiting_approval') return { outcome: request?.state ?? 'gone' };
    const now = deps.services.now().getTime();
    const expiresAt = data.askedAt + data.expireDays * deps.dayMs;
    if (now >= expiresAt) {
      const expired = await expireRequest(deps.services, data.requestId);
      if (!expired.ok) return { outcome: expired.failures[0]?.code ?? 'not_expired' };
      await addTicketUpdate(deps.queues, ticketUpdateId('expired', data.requestId), {
        ticket: data.ticket,
        operations: [
          {
            op: 'comment',
            kind: 'expired',
            key: data.requestId,
            body: expiredComment({ requestId: data.requestId, expireDays: data.expireDays }),
          },
          closeAs(LABELS.expired, 'not_planned'),
        ],
      });
      log.info('request expired: nobody decided in time');
      return { outcome: 'expired' };
    }
    let reminders = data.reminders;
    const reminderDue = (n: number) => data.askedAt + (n + 1) * data.reminderDays * deps.dayMs;
    if (now >= reminderDue(reminders)) {
      // Reminders missed during downtime are not all posted: one mention says the same.
      while (now >= reminderDue(reminders + 1)) reminders++;
      reminders++;
      const key = `${data.requestId}-${reminders}`;
      await addTicketUpdate(deps.queues, ticketUpdateId('reminder', key), {
        ticket: data.ticket,
        operations: [
          {
            op: 'comment',
            kind: 'reminder',
            key,
            body: reminderComment({
              requestId: key,
              approvers: data.approvers,
              daysWaiting: (now - data.askedAt) / deps.dayMs,
              expiresInDays: (expiresAt - now) / deps.dayMs,
            }),
          },
        ],
      });
      await job.updateData({ ...data, reminders });
      log.info({ reminders }, 'approvers reminded');
    }
    await job.moveToDelayed(Math.min(reminderDue(reminders), expiresAt), token);
    throw new DelayedError('waiting for a decision');
  };
}
