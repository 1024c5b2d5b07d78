import { UnrecoverableError, type Job } from 'bullmq';
import { classifyMailFailure } from '../core/mail-failure.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { recordMailState, type MailJob } from '../mail/mail-queue.ts';
import type { Mailer } from '../mail/mailer.ts';

export interface MailDeps {
  db: Database;
  mailer: Mailer;
  log: Logger;
}

/**
 * Sends one message. A temporary failure (the server down, a 4xx reply) is retried with
 * exponential backoff; a refusal (5xx, bad credentials or address) is recorded and not retried,
 * so a bad address cannot cause a retry storm. Running out of attempts is recorded too.
 */
export function processMail(deps: MailDeps) {
  return async (job: Job<MailJob>): Promise<{ state: string }> => {
    const { id, to, subject, text, html } = job.data;
    const log = deps.log.child({ job: job.id, mail: id });
    try {
      const state = await deps.mailer.send({ to, subject, text, html });
      await recordMailState(deps.db, id, state);
      return { state };
    } catch (error) {
      const failure = error as { responseCode?: number; code?: string; message?: string };
      const verdict = classifyMailFailure(failure);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (verdict.kind === 'permanent' || lastAttempt) {
        log.error(`e-mail to ${to} not sent: ${verdict.reason}`);
        await recordMailState(deps.db, id, 'failed', verdict.reason);
        if (verdict.kind === 'permanent') throw new UnrecoverableError(verdict.reason);
      } else {
        log.warn(`e-mail to ${to} not sent yet: ${verdict.reason}; retrying`);
      }
      throw error;
    }
  };
}
