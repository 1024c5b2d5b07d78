import { Queue, Worker } from 'bullmq';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { redisConnection } from '../../src/queue/queues.ts';
import type { SigningJob } from '../../src/queue/jobs.ts';
import { approveRequest } from '../../src/services/decide-request.ts';
import { assertGitHubDone, quietFor, startBotWorld, type BotWorld } from '../helpers/bot-world.ts';
import { API, APPROVERS_YAML, eventually, github, OWNER, REPO, startBot } from '../helpers/github.ts';
import { testContext } from '../helpers/services.ts';

let world: BotWorld;

beforeAll(async () => {
  world = await startBotWorld();
}, 60_000);
afterAll(async () => world?.close());
afterEach(assertGitHubDone);

const alice = { login: 'alice', id: 7001 };
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** The rest of an approval after the PEM comment: the ticket read, then labels and closing in one PATCH. */
function afterPem(number: number) {
  return github.decided(number, 'approved', 'completed');
}

describe('duplicates and races', () => {
  it('ten approvers at the same moment: one certificate, one approved comment', async () => {
    const { issue } = await world.openTicket(61, 'TE1234');
    const configs = Array.from({ length: 10 }, () => github.config(APPROVERS_YAML));
    const scopes = [github.comment(61, (b) => b.includes('ons-certs:approved:')), ...afterPem(61)];
    // "The same moment": all ten deliveries are handled while the request still waits, as when
    // the approvers comment within the time signing takes. (One handled after the signing is
    // told that there is nothing left to decide: the refusal tested elsewhere.)
    const connection = redisConnection(REDIS_URL);
    const signing = new Queue('signing', { connection, prefix: world.bot.env['QUEUE_PREFIX'] });
    await signing.pause();
    try {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => world.comment(issue, 6100 + i, '/approve', alice)),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
      // Ten approvals, one signing job (its id is the request's).
      expect(await signing.getJobCounts('waiting', 'active', 'completed')).toEqual({
        waiting: 1,
        active: 0,
        completed: 0,
      });
    } finally {
      await signing.resume();
      await signing.close();
      await connection.quit();
    }
    await eventually(() => expect([...configs, ...scopes].every((s) => s.isDone())).toBe(true));
    await quietFor();
    const line = await world.line('TE1234');
    expect(line?.request?.state).toBe('signed');
    expect(line?.certificate?.serial).toMatch(/^[0-9a-f]+$/);
  });

  it('the same /approve delivered twice is handled once', async () => {
    const { issue } = await world.openTicket(62, 'CF1234');
    const scopes = [
      github.config(APPROVERS_YAML),
      github.comment(62, (b) => b.includes('ons-certs:approved:')),
      ...afterPem(62),
    ];
    const { commentEvent } = await import('../helpers/github.ts');
    const event = commentEvent(issue, { id: 6201, body: '/approve', user: alice });
    const answers = await Promise.all([
      world.bot.deliver('issue_comment', event, 'same-delivery-62'),
      world.bot.deliver('issue_comment', event, 'same-delivery-62'),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true));
    await quietFor();
  });

  it('GitHub answering 500 and then 201 for the PEM comment: posted once, after looking for it', async () => {
    const { issue } = await world.openTicket(63, 'TE5678');
    const failed = github.comment(63, () => true, 500);
    const scopes = [
      github.config(APPROVERS_YAML),
      failed,
      github.listComments(63),
      github.comment(63, (b) => b.includes('ons-certs:approved:')),
      ...afterPem(63),
    ];
    await world.comment(issue, 6301, '/approve', { login: 'mallory', id: 7002 });
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true), 15_000);
  });

  it('a 429 with retry-after: the job waits and then posts, nothing lost', async () => {
    const { issue } = await world.openTicket(64, 'TE5679');
    const limited = nock(API)
      .post(`/repos/${OWNER}/${REPO}/issues/64/comments`)
      .reply(429, { message: 'You have exceeded a secondary rate limit' }, { 'retry-after': '1' });
    const scopes = [
      github.config(APPROVERS_YAML),
      limited,
      github.listComments(64),
      github.comment(64, (b) => b.includes('ons-certs:approved:')),
      ...afterPem(64),
    ];
    const started = Date.now();
    await world.comment(issue, 6401, '/approve', { login: 'mallory', id: 7002 });
    await eventually(() => expect(limited.isDone()).toBe(true));
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true), 15_000);
    // retry-after 1 s plus a second of slack: not sooner.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it('a PATCH whose answer was lost is not sent again, nor the PEM comment posted again', async () => {
    const { issue } = await world.openTicket(65, 'TE1235');
    let pemBody = '';
    const scopes = [
      github.config(APPROVERS_YAML),
      github.comment(65, (b) => {
        pemBody = b;
        return b.includes('ons-certs:approved:');
      }),
      github.getIssue(65, ['certificate-approval', 'awaiting-approval']),
      // GitHub carried the PATCH out, but the connection broke before its answer arrived.
      nock(API)
        .patch(`/repos/${OWNER}/${REPO}/issues/65`)
        .replyWithError({ code: 'ECONNRESET', message: 'socket hang up' }),
      // The retry reads the ticket, sees it labelled and closed already, and writes nothing.
      github.getIssue(65, ['certificate-approval', 'approved'], { state: 'closed', reason: 'completed' }),
    ];
    await world.comment(issue, 6501, '/approve', alice);
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true), 15_000);
    expect(pemBody).toContain('BEGIN CERTIFICATE');
    // A second PATCH or PEM comment would be tried now, and refused by nock (assertGitHubDone).
    await quietFor(500);
  });

  it("two tickets approved at once: both certificates are posted before either ticket's labels and closing", async () => {
    const tickets = [
      { number: 68, code: 'TE1236', commentId: 6801 },
      { number: 69, code: 'CF1235', commentId: 6901 },
    ];
    const opened = [];
    for (const t of tickets) opened.push((await world.openTicket(t.number, t.code)).issue);
    const calls: string[] = [];
    const record = (what: string) => (scope: nock.Scope) => scope.on('request', () => calls.push(what));
    const scopes = tickets.flatMap((t) => [
      github.config(APPROVERS_YAML),
      record(`pem ${t.number}`)(github.comment(t.number, (b) => b.includes('ons-certs:approved:'))),
      ...afterPem(t.number).map(record(`after ${t.number}`)),
    ]);
    const connection = redisConnection(REDIS_URL);
    const githubQueue = new Queue('github', { connection, prefix: world.bot.env['QUEUE_PREFIX'] });
    try {
      // Both certificates signed and their ticket updates waiting, as in a burst.
      await githubQueue.pause();
      for (const [i, t] of tickets.entries()) {
        expect((await world.comment(opened[i]!, t.commentId, '/approve', alice)).status).toBe(200);
      }
      await eventually(async () => expect(await githubQueue.getJobCounts('waiting')).toEqual({ waiting: 2 }));
      await githubQueue.resume();
      await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true));
      expect(calls.slice(0, 2).sort()).toEqual(['pem 68', 'pem 69']);
      expect(calls.slice(2)).toHaveLength(4);
      // The follow-ups were jobs of their own, behind those without a priority.
      const requestId = (await world.line('TE1236'))?.request?.id ?? '';
      const followUp = await githubQueue.getJob(`github-approved-${requestId}-after`);
      expect(followUp?.opts.priority).toBeGreaterThan(0);
    } finally {
      await githubQueue.close();
      await connection.quit();
    }
  });

  it('a decision wakes the approval job, which completes at once', async () => {
    const line = await world.line('CF1234');
    const connection = redisConnection(REDIS_URL);
    const queue = new Queue('approvals', { connection, prefix: world.bot.env['QUEUE_PREFIX'] });
    try {
      const job = await queue.getJob(`approval-${line?.request?.id}`);
      expect(await job?.getState()).toBe('completed');
      expect(job?.returnvalue).toEqual({ outcome: 'signed' });
    } finally {
      await queue.close();
      await connection.quit();
    }
  });
});

describe('a worker that dies between signing and commenting', () => {
  it('the PEM is still posted, exactly once, and one certificate exists', async () => {
    // The web process only enqueues; the signing job waits for a worker.
    const web = await startBot({ env: { WORKERS: 'web' } });
    const prefix = web.env['QUEUE_PREFIX'] ?? '';
    const database = await openDatabase({ url: web.env['DATABASE_URL'] ?? '' });
    const started: { close(): Promise<void> }[] = [];
    try {
      const seeded = await seed(web);
      const { issue, requestId } = await askApproval(web, seeded, 66);
      github.config(APPROVERS_YAML);
      await web.deliver(
        'issue_comment',
        (await import('../helpers/github.ts')).commentEvent(issue, {
          id: 6601,
          body: '/approve',
          user: alice,
        }),
      );
      // The first worker signs (the certificate is committed) and dies before queueing the comment.
      const ctx = await testContext(database, { minRsaBits: 2048 });
      const dyingConnection = redisConnection(REDIS_URL);
      const dying = new Worker<SigningJob>(
        'signing',
        async (job) => {
          const signed = await approveRequest(
            ctx,
            { kind: 'approver', login: job.data.approver.login, githubId: job.data.approver.id },
            job.data.requestId,
            { csrSha256: job.data.csrSha256 },
          );
          expect(signed.ok).toBe(true);
          throw new Error('the worker process was killed');
        },
        { connection: dyingConnection, prefix },
      );
      const died = new Promise((resolve) => dying.once('failed', resolve));
      await died;
      await dying.close();
      await dyingConnection.quit().catch(() => undefined);

      // A new worker process picks the job up again.
      const scopes = [
        // What the web process queued at intake, now carried out too.
        github.comment(66, (b) => b.includes('ons-certs:approval-request:')),
        github.labels(66, ['awaiting-approval']),
        github.comment(66, (b) => b.includes('ons-certs:approved:')),
        ...afterPem(66),
      ];
      const worker = await startBot({
        env: { WORKERS: 'worker', QUEUE_PREFIX: prefix, DATABASE_URL: web.env['DATABASE_URL'] ?? '' },
      });
      started.push(worker);
      await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true), 15_000);
      await quietFor();
      const rows = await database.db.execute(
        `select count(*)::int as n from certificates where request_id = '${requestId}'`,
      );
      expect((rows as unknown as { n: number }[])[0]?.n).toBe(1);
    } finally {
      for (const s of started) await s.close().catch(() => undefined);
      await database.close();
      await web.close();
    }
  }, 60_000);
});

type Seeded = { token: string };

async function seed(bot: Awaited<ReturnType<typeof startBot>>): Promise<Seeded> {
  const { ADMIN } = await import('../helpers/github.ts');
  const supplier = await bot.call<{ token: string }>('POST', '/api/admin/suppliers', ADMIN, {
    name: 'Example Software',
    email: 'pki@example.com',
    githubLogins: ['supplier-dev'],
  });
  const token = supplier.json.token;
  await bot.call('POST', '/api/connectors', token, { technicalName: 'hr_integration', name: 'HR' });
  await bot.call('POST', '/api/connectors/hr_integration/versions', token, { version: '1.0' });
  await bot.call('POST', '/api/admin/connectors/hr_integration/versions/1.0/approve', ADMIN);
  return { token };
}

async function askApproval(bot: Awaited<ReturnType<typeof startBot>>, seeded: Seeded, number: number) {
  const { issueEvent, ticketBody } = await import('../helpers/github.ts');
  const { makeCsr } = await import('../helpers/services.ts');
  const { csr } = await makeCsr(`hr_integration-TE1234-crash${number}`);
  const issue = {
    number,
    body: ticketBody({ connector: 'hr_integration', version: '1.0', customerCode: 'TE1234', csr }),
  };
  github.config(APPROVERS_YAML);
  // No worker runs in this process, so nothing reaches GitHub yet: the request is in the database.
  await bot.deliver('issues', issueEvent('opened', issue));
  const lines = await bot.call<{ customerCode: string; request?: { id: string } }[]>(
    'GET',
    '/api/connectors/hr_integration/versions/1.0/environments',
    seeded.token,
  );
  const requestId = lines.json.find((l) => l.customerCode === 'TE1234')?.request?.id ?? '';
  return { issue: { ...issue, labels: ['certificate-approval', 'awaiting-approval'] }, requestId };
}
