import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { mailMessages } from '../../src/db/schema.ts';
import { createLogger } from '../../src/log.ts';
import { runExpiryScan, type ExpiryScanDeps } from '../../src/mail/expiry-scan.ts';
import { createMailer } from '../../src/mail/mailer.ts';
import { openQueues, redisConnection, type Queues } from '../../src/queue/queues.ts';
import { startWorkers, type RunningWorkers } from '../../src/queue/workers.ts';
import { setCertificateEnabled } from '../../src/services/certificates.ts';
import { createConnector, createVersion } from '../../src/services/connectors.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { addEnvironment } from '../../src/services/environments.ts';
import { createSupplier } from '../../src/services/suppliers.ts';
import { uploadCsr } from '../../src/services/upload-csr.ts';
import { freshDatabase } from '../helpers/database.ts';
import { eventually } from '../helpers/github.ts';
import { makeCsr, testContext } from '../helpers/services.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const DAY = 24 * 60 * 60 * 1000;
// Whole seconds: certificates carry their validity to the second.
const TODAY = new Date(Math.floor(Date.now() / 1000) * 1000);
const log = createLogger('silent');
const PREFIX = `test-expiry-${randomUUID()}`;

let handle: DatabaseHandle;
let dropDatabase: () => Promise<void>;
let ctx: ServiceContext;
let queues: Queues;
let smtp: SmtpSink;
let workers: RunningWorkers;
let supplier: { kind: 'supplier'; supplierId: string };
let scan: ExpiryScanDeps;

/** Issues a development certificate that expires `days` days from TODAY (signed a year earlier). */
async function certificateExpiringIn(days: number, version = `v${randomUUID().slice(0, 8)}`) {
  const signedAt = new Date(TODAY.getTime() + days * DAY);
  signedAt.setUTCFullYear(signedAt.getUTCFullYear() - 1);
  const at = { ...ctx, now: () => signedAt };
  await createVersion(at, supplier, 'hr_integration', { version });
  await addEnvironment(
    at,
    supplier,
    { technicalName: 'hr_integration', version },
    { customerCode: 'TE1002' },
  );
  const { csr } = await makeCsr(`hr_integration-TE1002-${version}`);
  const uploaded = await uploadCsr(
    at,
    supplier,
    { technicalName: 'hr_integration', version, customerCode: 'TE1002' },
    csr,
  );
  if (!uploaded.ok || !uploaded.value.certificate) throw new Error(JSON.stringify(uploaded));
  return { version, serial: uploaded.value.certificate.serial };
}

const mailsAbout = (serial: string) => smtp.received.filter((m) => m.raw.includes(serial));

beforeAll(async () => {
  ({ handle, drop: dropDatabase } = await freshDatabase('postgres'));
  ctx = await testContext(handle, { minRsaBits: 2048, now: () => TODAY });
  smtp = await startSmtpSink({ refuse: /^bounce@/ });
  const created = await createSupplier(
    ctx,
    { kind: 'admin' },
    {
      name: 'Evil <b>& Co</b>',
      email: 'pki@example.com',
    },
  );
  if (!created.ok) throw new Error('no supplier');
  supplier = { kind: 'supplier', supplierId: created.value.id };
  await createConnector(ctx, supplier, { technicalName: 'hr_integration', name: 'HR' });
  queues = openQueues(redisConnection(REDIS_URL), PREFIX);
  scan = { db: handle.db, queues, log, publicUrl: 'https://certs.example.com', reminderDays: 30 };
}, 60_000);

afterAll(async () => {
  await workers?.close();
  await queues?.close();
  await smtp?.close();
  await dropDatabase?.();
});

describe('the daily expiry scan', () => {
  it('reminds once per certificate where due, none where not, an expired notice for one too late', async () => {
    const at = {
      in40: await certificateExpiringIn(40),
      in30: await certificateExpiringIn(30),
      in29: await certificateExpiringIn(29),
      in1: await certificateExpiringIn(1),
      ago1: await certificateExpiringIn(-1),
    };
    // A renewed line (a newer certificate on it) and a disabled certificate get nothing.
    const renewed = await certificateExpiringIn(10);
    const renewal = await makeCsr(`hr_integration-TE1002-${renewed.version}_new`);
    const renewedUpload = await uploadCsr(
      ctx,
      supplier,
      { technicalName: 'hr_integration', version: renewed.version, customerCode: 'TE1002' },
      renewal.csr,
    );
    expect(renewedUpload.ok).toBe(true);
    const disabled = await certificateExpiringIn(5);
    await setCertificateEnabled(ctx, supplier, disabled.serial, { enabled: false, reason: 'leaked' });

    // Two workers scanning at the same moment, and a third scan later: each mail goes once.
    workers = startWorkers({
      services: ctx,
      queues,
      log,
      redisUrl: REDIS_URL,
      prefix: PREFIX,
      publicUrl: scan.publicUrl,
      dayMs: DAY,
      github: undefined,
      mailer: createMailer(
        { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, from: 'ons-certs <certs@example.com>' },
        log,
      ),
      reminderDays: 30,
      expiryScanAt: { hour: 3, minute: 0 },
    });
    const [first, second] = await Promise.all([runExpiryScan(scan, TODAY), runExpiryScan(scan, TODAY)]);
    const third = await runExpiryScan(scan, TODAY);
    expect(first.reminders + second.reminders + third.reminders).toBe(3);
    expect(first.expired + second.expired + third.expired).toBe(1);

    await eventually(
      () => expect(smtp.received.filter((m) => /expire/i.test(m.subject)).length).toBe(4),
      15_000,
    );
    expect(mailsAbout(at.in40.serial)).toHaveLength(0);
    for (const due of [at.in30, at.in29, at.in1]) {
      const mails = mailsAbout(due.serial).filter((m) => /expires/i.test(m.subject));
      expect(mails).toHaveLength(1);
      expect(mails[0]?.to).toEqual(['pki@example.com']);
    }
    expect(mailsAbout(at.ago1.serial).filter((m) => /expired/i.test(m.subject))).toHaveLength(1);
    expect(mailsAbout(renewed.serial).filter((m) => /expire/i.test(m.subject))).toHaveLength(0);
    expect(mailsAbout(disabled.serial).filter((m) => /expire/i.test(m.subject))).toHaveLength(0);

    const reminder = mailsAbout(at.in29.serial).find((m) => /expires/i.test(m.subject))!;
    expect(reminder.subject).toContain('hr_integration');
    expect(reminder.subject).toContain('29 days');
    expect(reminder.raw).toContain(`hr_integration-TE1002-${at.in29.version}`);
    expect(reminder.raw).toContain(
      `https://certs.example.com/connectors/hr_integration/versions/${at.in29.version}`,
    );
    expect(reminder.raw).toContain('text/html');
    // The supplier's name with HTML in it is escaped in the HTML part, never markup there.
    const html = reminder.raw.slice(reminder.raw.indexOf('Content-Type: text/html'));
    expect(html).toContain('Evil &lt;b&gt;&amp; Co&lt;/b&gt;');
    expect(html).not.toContain('<b>');

    // A scan after the workers restart (e.g. the next day) sends nothing again.
    await runExpiryScan(scan, new Date(TODAY.getTime() + DAY));
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.received.filter((m) => /expire/i.test(m.subject)).length).toBe(4);
  }, 120_000);

  it('uses the index on enabled expiry dates', async () => {
    await handle.db.execute('analyze certificates');
    const plan = await handle.db.execute(
      `explain select id from certificates where enabled and not_after <= now() + interval '30 days'`,
    );
    const text = JSON.stringify(plan);
    // With few rows the planner may prefer a sequential scan; with enable_seqscan off it must find
    // the index (set in the transaction, so on the connection that runs the EXPLAIN).
    const forced = await handle.db.transaction(async (tx) => {
      await tx.execute('set local enable_seqscan = off');
      return JSON.stringify(
        await tx.execute(
          `explain select id from certificates where enabled and not_after <= now() + interval '30 days'`,
        ),
      );
    });
    expect(text + forced).toContain('certificates_enabled_expiry');
  });
});

describe('sending', () => {
  it('a permanent refusal (550) is recorded as failed and not retried', async () => {
    const id = `mail-test-bounce-${randomUUID()}`;
    const { queueMail } = await import('../../src/mail/mail-queue.ts');
    await queueMail(handle.db, queues, {
      id,
      kind: 'certificate_issued',
      to: 'bounce@example.com',
      mail: { subject: 'Your certificate', text: 'hello', html: '<p>hello</p>' },
    });
    await eventually(async () => {
      const [row] = await handle.db.select().from(mailMessages).where(eq(mailMessages.id, id));
      expect(row?.state).toBe('failed');
      expect(row?.failure).toContain('550');
    });
    await new Promise((r) => setTimeout(r, 2500));
    expect(smtp.attempts.filter((a) => a === 'bounce@example.com')).toHaveLength(1);
  });

  it('an SMTP server down for the first attempts: delivered once when it is back', async () => {
    const downPort = smtp.port + 1 < 65535 ? smtp.port + 1 : smtp.port - 1;
    const { queueMail } = await import('../../src/mail/mail-queue.ts');
    const { freePort } = await import('../helpers/net.ts');
    const port = (await freePort()) || downPort;
    const prefix = `test-mail-down-${randomUUID()}`;
    const connection = redisConnection(REDIS_URL);
    const downQueues = openQueues(connection, prefix);
    const downWorkers = startWorkers({
      services: ctx,
      queues: downQueues,
      log,
      redisUrl: REDIS_URL,
      prefix,
      publicUrl: scan.publicUrl,
      dayMs: DAY,
      github: undefined,
      mailer: createMailer(
        { smtpUrl: `smtp://127.0.0.1:${port}`, from: 'certs@example.com', connectionTimeoutMs: 1000 },
        log,
      ),
      reminderDays: 30,
      expiryScanAt: { hour: 3, minute: 0 },
    });
    let late: SmtpSink | undefined;
    try {
      const id = `mail-test-down-${randomUUID()}`;
      await queueMail(handle.db, downQueues, {
        id,
        kind: 'certificate_issued',
        to: 'later@example.com',
        mail: { subject: `Delivered later ${id}`, text: 'hello', html: '<p>hello</p>' },
      });
      await eventually(async () => {
        const job = await downQueues.mail.getJob(id);
        expect(job?.attemptsMade).toBeGreaterThanOrEqual(1);
      });
      late = await startSmtpSink({ port });
      await eventually(
        () => expect(late?.received.filter((m) => m.subject.includes(id))).toHaveLength(1),
        20_000,
      );
      // The server has the message before the worker hears its "250" and records it as sent.
      await eventually(async () => {
        const [row] = await handle.db.select().from(mailMessages).where(eq(mailMessages.id, id));
        expect(row?.state).toBe('sent');
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(late.received.filter((m) => m.subject.includes(id))).toHaveLength(1);
    } finally {
      await downWorkers.close();
      await downQueues.close();
      await late?.close();
    }
  }, 60_000);
});

describe('telling the supplier what happened', () => {
  it('e-mails an issued certificate, a disabled one (who and why) and a rejected request', async () => {
    const { createMailNotifier } = await import('../../src/mail/mail-notifier.ts');
    const { approveVersion } = await import('../../src/services/connectors.ts');
    const { rejectRequest } = await import('../../src/services/decide-request.ts');
    const told: ServiceContext = {
      ...ctx,
      notifier: createMailNotifier({ db: handle.db, queues, log, publicUrl: 'https://certs.example.com' }),
    };
    const issued = await certificateExpiringIn(200);
    // certificateExpiringIn uses a context without the notifier: issue one with it.
    const version = `told${randomUUID().slice(0, 6)}`;
    await createVersion(told, supplier, 'hr_integration', { version });
    await addEnvironment(
      told,
      supplier,
      { technicalName: 'hr_integration', version },
      { customerCode: 'TE1002' },
    );
    const { csr } = await makeCsr(`hr_integration-TE1002-${version}`);
    const uploaded = await uploadCsr(
      told,
      supplier,
      { technicalName: 'hr_integration', version, customerCode: 'TE1002' },
      csr,
    );
    if (!uploaded.ok || !uploaded.value.certificate) throw new Error('not signed');
    const serial = uploaded.value.certificate.serial;
    await eventually(
      () => expect(mailsAbout(serial).filter((m) => /is ready/i.test(m.subject))).toHaveLength(1),
      15_000,
    );
    expect(mailsAbout(issued.serial).filter((m) => /is ready/i.test(m.subject))).toHaveLength(0);

    await setCertificateEnabled(told, supplier, serial, {
      enabled: false,
      reason: 'key copied to a <laptop>',
    });
    await eventually(
      () => expect(mailsAbout(serial).filter((m) => /disabled/i.test(m.subject))).toHaveLength(1),
      15_000,
    );
    const disabledMail = mailsAbout(serial).find((m) => /disabled/i.test(m.subject))!;
    // Who, by name: the supplier's, not its id (the text part as written, the HTML part escaped).
    expect(disabledMail.raw).toContain('was disabled by Evil <b>& Co</b> on ');
    expect(disabledMail.raw).toContain('was disabled by Evil &lt;b&gt;&amp; Co&lt;/b&gt; on ');
    expect(disabledMail.raw).not.toContain(supplier.supplierId);
    expect(disabledMail.raw).toContain('key copied to a &lt;laptop&gt;');

    await approveVersion(told, { kind: 'system' }, 'hr_integration', version);
    await addEnvironment(
      told,
      supplier,
      { technicalName: 'hr_integration', version },
      { customerCode: 'TE4321' },
    );
    const staging = await makeCsr(`hr_integration-TE4321-${version}`);
    const waiting = await uploadCsr(
      told,
      supplier,
      { technicalName: 'hr_integration', version, customerCode: 'TE4321' },
      staging.csr,
    );
    if (!waiting.ok) throw new Error('not waiting');
    await rejectRequest(
      told,
      { kind: 'approver', login: 'alice', githubId: 7001 },
      waiting.value.request.id,
      'wrong organisation',
    );
    await eventually(
      () =>
        expect(
          smtp.received.filter((m) => /rejected/i.test(m.subject) && m.raw.includes('TE4321')),
        ).toHaveLength(1),
      15_000,
    );
    const rejected = smtp.received.find((m) => /rejected/i.test(m.subject) && m.raw.includes('TE4321'))!;
    expect(rejected.raw).toContain('wrong organisation');
    expect(rejected.raw).toContain('alice');
  }, 60_000);

  it('posts the reminder on the ticket the certificate came from', async () => {
    const { certificateRequests, certificates } = await import('../../src/db/schema.ts');
    const fromTicket = await certificateExpiringIn(12);
    const [row] = await handle.db
      .select()
      .from(certificates)
      .where(eq(certificates.serial, fromTicket.serial));
    await handle.db
      .update(certificateRequests)
      .set({ ticket: 'nedap-ons/support#77', ticketInstallationId: 4242 })
      .where(eq(certificateRequests.id, row!.requestId));
    await runExpiryScan(scan, TODAY);
    const job = await queues.github.getJob(`github-expiry-reminder-${fromTicket.serial}`);
    expect(job?.data.ticket).toEqual({
      installationId: 4242,
      owner: 'nedap-ons',
      repo: 'support',
      number: 77,
    });
    expect(job?.data.operations[0].body).toContain(fromTicket.serial);
    expect(job?.data.operations[0].body).toContain(`ons-certs:expiry-reminder:${fromTicket.serial}`);
  });
});
