import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../db/database.ts';
import { prepared } from '../db/prepared.ts';
import { mailMessages, MAIL_KINDS } from '../db/schema.ts';
import { RETRYING, type Queues } from '../queue/queues.ts';
import type { Mail } from '../templates/mail/blocks.ts';

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
  const [isNew] = await queueMails(db, queues, [message]);
  return isNew ?? false;
}

/** {@link queueMail} for many messages at once: one insert and one Redis call. */
export async function queueMails(db: Executor, queues: Queues, messages: QueuedMail[]): Promise<boolean[]> {
  if (messages.length === 0) return [];
  const rows = messages.map((m) => ({
    id: m.id,
    kind: m.kind,
    certificateId: m.certificateId ?? null,
    recipient: m.to,
    subject: m.mail.subject,
  }));
  const [one] = rows;
  const inserted =
    rows.length === 1 && one
      ? await insertOne(db).execute(one)
      : await db.insert(mailMessages).values(rows).onConflictDoNothing().returning({ id: mailMessages.id });
  const fresh = new Set(inserted.map((r) => r.id));
  const others = messages.filter((m) => !fresh.has(m.id)).map((m) => m.id);
  const stillQueued =
    others.length === 0
      ? []
      : await db
          .select({ id: mailMessages.id })
          .from(mailMessages)
          .where(and(inArray(mailMessages.id, others), eq(mailMessages.state, 'queued')));
  // Only a message still waiting to go needs its job (again); one sent or refused is done.
  const waiting = new Set([...fresh, ...stillQueued.map((r) => r.id)]);
  const jobs = messages
    .filter((m) => waiting.has(m.id))
    .map((m) => ({
      name: m.kind,
      data: { id: m.id, to: m.to, ...m.mail } satisfies MailJob,
      opts: { ...RETRYING, jobId: m.id },
    }));
  // One job goes by the plain add: a single script, where addBulk wraps it in a transaction.
  const [only] = jobs;
  if (jobs.length === 1 && only) await queues.mail.add(only.name, only.data, only.opts);
  else if (jobs.length > 1) await queues.mail.addBulk(jobs);
  return messages.map((m) => fresh.has(m.id));
}

/** The insert of one message, prepared: every issued certificate comes with one. */
const insertOne = (db: Executor) =>
  prepared(db, 'insertMailMessage', (on) =>
    on
      .insert(mailMessages)
      .values({
        id: sql.placeholder('id'),
        kind: sql.placeholder('kind'),
        certificateId: sql.placeholder('certificateId'),
        recipient: sql.placeholder('recipient'),
        subject: sql.placeholder('subject'),
      })
      .onConflictDoNothing()
      .returning({ id: mailMessages.id })
      .prepare('insert_mail_message'),
  );

/** Records what became of a message. */
export async function recordMailState(
  db: Executor,
  id: string,
  state: 'sent' | 'logged' | 'failed',
  failure?: string,
): Promise<void> {
  if (state === 'failed') {
    await db
      .update(mailMessages)
      .set({ state, failure: failure ?? null })
      .where(eq(mailMessages.id, id));
    return;
  }
  await prepared(db, 'recordMailDelivered', (on) =>
    on
      .update(mailMessages)
      .set({
        state: sql`${sql.placeholder('state')}`,
        failure: null,
        sentAt: sql`${sql.placeholder('sentAt')}::timestamptz`,
      })
      .where(eq(mailMessages.id, sql.placeholder('id')))
      .prepare('record_mail_delivered'),
  ).execute({ id, state, sentAt: new Date().toISOString() });
}
