import { eq } from 'drizzle-orm';
import type { Executor } from '../db/database.ts';
import { mailMessages, MAIL_KINDS } from '../db/schema.ts';
import { RETRYING, type Queues } from '../queue/queues.ts';
import type { Mail } from '../templates/mail/mail.ts';

/** A job of the `mail` queue: one rendered message. */
export interface MailJob {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface QueuedMail {
  /** The job id, derived from what the message is about (`mail-<kind>-<key>`). */
  id: string;
  kind: (typeof MAIL_KINDS)[number];
  certificateId?: string | undefined;
  to: string;
  mail: Mail;
}

/**
 * Records a message and queues it for sending. Both steps are keyed by the message's id, so
 * queueing the same message twice (a second scan, a second worker, a retry) sends it once; a
 * record whose job went missing (Redis lost it) is queued again by the next call. Returns
 * whether the record is new.
 */
export async function queueMail(db: Executor, queues: Queues, message: QueuedMail): Promise<boolean> {
  const inserted = await db
    .insert(mailMessages)
    .values({
      id: message.id,
      kind: message.kind,
      certificateId: message.certificateId,
      recipient: message.to,
      subject: message.mail.subject,
    })
    .onConflictDoNothing()
    .returning({ id: mailMessages.id });
  const [existing] = inserted.length
    ? [{ state: 'queued' }]
    : await db
        .select({ state: mailMessages.state })
        .from(mailMessages)
        .where(eq(mailMessages.id, message.id));
  // Only a message still waiting to go needs its job (again); one sent or refused is done.
  if (existing?.state === 'queued') {
    const job: MailJob = { id: message.id, to: message.to, ...message.mail };
    await queues.mail.add(message.kind, job, { ...RETRYING, jobId: message.id });
  }
  return inserted.length === 1;
}

/** Records what became of a message. */
export async function recordMailState(
  db: Executor,
  id: string,
  state: 'sent' | 'logged' | 'failed',
  failure?: string,
): Promise<void> {
  await db
    .update(mailMessages)
    .set({ state, failure: failure ?? null, ...(state === 'failed' ? {} : { sentAt: new Date() }) })
    .where(eq(mailMessages.id, id));
}
