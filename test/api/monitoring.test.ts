import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { eq } from 'drizzle-orm';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../src/api/metrics.ts';
import { createHttpApp } from '../../src/api/server.ts';
import { openDatabase } from '../../src/db/database.ts';
import { certificateRequests } from '../../src/db/schema.ts';
import { createLogger } from '../../src/log.ts';
import { jobIds, openQueues, QUEUE_NAMES, redisConnection, type Queues } from '../../src/queue/queues.ts';
import type { Actor } from '../../src/services/actor.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { approveVersion, createConnector, createVersion } from '../../src/services/connectors.ts';
import { addEnvironment } from '../../src/services/environments.ts';
import type { Outcome } from '../../src/services/outcome.ts';
import { createSupplier } from '../../src/services/suppliers.ts';
import { uploadCsr } from '../../src/services/upload-csr.ts';
import { freshDatabase, type TestDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/net.ts';
import { makeCsr, testContext } from '../helpers/services.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_TOKEN = 'admin-token-for-monitoring-tests-0123456789';
const BOARD_CHALLENGE = 'Basic realm="ons-certs queues"';
const admin = { kind: 'admin' } as const;

function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.failures)}`);
  return outcome.value;
}

/** HTTP basic as a browser sends it once the user typed the token as the password. */
const basic = (password: string, user = 'support') =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const bearer = (token: string) => `Bearer ${token}`;

function listen(app: ReturnType<typeof createHttpApp>): Promise<{ server: Server; url: string }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', (error?: Error) => {
      if (error) return reject(error);
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    });
  });
}

const closeServer = (server: Server | undefined) =>
  new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));

/** The value of one sample line (`name{labels} value`) of a Prometheus text body. */
function sample(body: string, series: string): string | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line?.slice(series.length + 1);
}

describe('monitoring: /metrics and the queue dashboard, on the real Redis and PostgreSQL', () => {
  const prefix = `ons-certs-test-${randomBytes(4).toString('hex')}`;
  let testDb: TestDatabase;
  let ctx: ServiceContext;
  let queues: Queues;
  let metrics: Metrics;
  let server: Server | undefined;
  let base = '';
  let supplierToken = '';
  let supplier: Extract<Actor, { kind: 'supplier' }>;
  let clock = new Date();

  beforeAll(async () => {
    testDb = await freshDatabase('postgres');
    ctx = await testContext(testDb.handle, { minRsaBits: 2048 });
    const created = value(
      await createSupplier(ctx, admin, { name: 'Example Software', email: 'pki@example.com' }),
    );
    supplier = { kind: 'supplier', supplierId: created.id };
    supplierToken = created.token;
    const connection = redisConnection(REDIS_URL);
    await connection.connect();
    queues = openQueues(connection, prefix);
    metrics = createMetrics({ queues, services: ctx, now: () => clock });
    const app = createHttpApp({
      ca: ctx.ca,
      log: createLogger('silent'),
      services: ctx,
      adminToken: ADMIN_TOKEN,
      health: {},
      queues,
      metrics,
    });
    ({ server, url: base } = await listen(app));
  });
  afterAll(async () => {
    await closeServer(server);
    if (queues) {
      await Promise.all(QUEUE_NAMES.map((name) => queues[name].obliterate({ force: true })));
      await queues.close();
    }
    await testDb?.drop();
  });

  const get = (path: string, authorization?: string) =>
    fetch(`${base}${path}`, { headers: authorization ? { authorization } : {} });

  describe('/admin/queues', () => {
    it('answers 401 without a token, with a Basic challenge so that a browser prompts', async () => {
      const response = await get('/admin/queues');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(BOARD_CHALLENGE);
      expect(await response.json()).toEqual({
        errors: [{ code: 'unauthorized', message: expect.any(String) }],
      });
    });

    it.each([
      ['a wrong bearer token', bearer(`${ADMIN_TOKEN}x`)],
      ['a wrong basic password', basic('not-the-admin-token')],
      [
        'the token as basic user name instead of password',
        `Basic ${Buffer.from(ADMIN_TOKEN).toString('base64')}`,
      ],
    ])('answers 401 with %s', async (_, authorization) => {
      const response = await get('/admin/queues', authorization);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(BOARD_CHALLENGE);
    });

    it("answers 403 to a supplier's token, as bearer and as basic", async () => {
      for (const authorization of [bearer(supplierToken), basic(supplierToken)]) {
        const response = await get('/admin/queues', authorization);
        expect(response.status).toBe(403);
        expect(await response.json()).toEqual({
          errors: [{ code: 'forbidden', message: expect.any(String) }],
        });
      }
    });

    it('serves the board as HTML with the admin token, as bearer and as basic', async () => {
      for (const authorization of [bearer(ADMIN_TOKEN), basic(ADMIN_TOKEN), basic(ADMIN_TOKEN, '')]) {
        const response = await get('/admin/queues', authorization);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/html/);
        expect(response.headers.has('x-powered-by')).toBe(false);
        expect(await response.text()).toContain('<base href="/admin/queues/"');
      }
    });

    it('serves the assets the page loads only with the token (a browser re-sends basic credentials)', async () => {
      const page = await (await get('/admin/queues/', basic(ADMIN_TOKEN))).text();
      const assets = [...page.matchAll(/(?:src|href)="(static\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
      expect(assets.length).toBeGreaterThan(1);
      for (const asset of assets) {
        const allowed = await get(`/admin/queues/${asset}`, basic(ADMIN_TOKEN));
        expect(allowed.status).toBe(200);
        expect(allowed.headers.get('content-type')).toMatch(/javascript|css/);
        await allowed.arrayBuffer();
        const refused = await get(`/admin/queues/${asset}`);
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toBe(BOARD_CHALLENGE);
      }
    });

    it("answers the board's own API with the five queues under our prefix", async () => {
      const response = await get('/admin/queues/api/queues', basic(ADMIN_TOKEN));
      expect(response.status).toBe(200);
      const { queues: shown } = (await response.json()) as { queues: { name: string }[] };
      expect(shown.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
    });

    it('holds the board to the 64 KiB body limit', async () => {
      const response = await fetch(`${base}/admin/queues/api/queues/mail/add`, {
        method: 'POST',
        headers: { authorization: bearer(ADMIN_TOKEN), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', data: { padding: 'x'.repeat(70 * 1024) } }),
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({
        errors: [{ code: 'body_too_large', message: expect.any(String) }],
      });
      expect(await queues.mail.getJobCounts('waiting')).toEqual({ waiting: 0 });
    });
  });

  describe('GET /metrics', () => {
    it("answers 401 without or with a wrong token, 403 to a supplier's", async () => {
      const none = await get('/metrics');
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="ons-certs"');
      expect((await get('/metrics', bearer('wrong-token-0123456789'))).status).toBe(401);
      expect((await get('/metrics', bearer(supplierToken))).status).toBe(403);
    });

    it('shows no waiting request as a count of 0 and an age of 0', async () => {
      const response = await get('/metrics', bearer(ADMIN_TOKEN));
      expect(response.status).toBe(200);
      const body = await response.text();
      expect(sample(body, 'ons_certs_requests_awaiting_approval')).toBe('0');
      expect(sample(body, 'ons_certs_oldest_awaiting_approval_seconds')).toBe('0');
    });

    it('shows jobs per queue and state, the waiting requests and their age, and the counters', async () => {
      await queues.approvals.add(
        'approval',
        { requestId: 'r1' },
        { jobId: jobIds.approval('r1'), delay: 60_000 },
      );

      // A staging line (approved version, TE code) whose upload waits for the organisation.
      const where = { technicalName: 'hr_integration', version: '1.0.0' };
      value(await createConnector(ctx, supplier, { technicalName: where.technicalName, name: 'HR' }));
      value(await createVersion(ctx, supplier, where.technicalName, { version: where.version }));
      value(await approveVersion(ctx, admin, where.technicalName, where.version));
      value(await addEnvironment(ctx, supplier, where, { customerCode: 'TE1234' }));
      const { csr } = await makeCsr('hr_integration-TE1234-monitoring');
      const uploaded = value(await uploadCsr(ctx, supplier, { ...where, customerCode: 'TE1234' }, csr));
      expect(uploaded.request.state).toBe('awaiting_approval');
      const [row] = await ctx.db
        .select({ createdAt: certificateRequests.createdAt })
        .from(certificateRequests)
        .where(eq(certificateRequests.id, uploaded.request.id));
      clock = new Date(row!.createdAt.getTime() + 90_000);

      metrics.webhookDeliveries.inc({ event: 'issues', outcome: 'handled' });
      metrics.webhookDeliveries.inc({ event: 'issues', outcome: 'handled' });
      metrics.webhookDeliveries.inc({ event: 'issue_comment', outcome: 'ignored' });
      metrics.signingSeconds.observe({ origin: 'approval' }, 0.02);

      const response = await get('/metrics', bearer(ADMIN_TOKEN));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(metrics.registry.contentType);
      const body = await response.text();
      expect(sample(body, 'ons_certs_queue_jobs{queue="approvals",state="delayed"}')).toBe('1');
      expect(sample(body, 'ons_certs_queue_jobs{queue="approvals",state="waiting"}')).toBe('0');
      for (const name of QUEUE_NAMES) {
        expect(sample(body, `ons_certs_queue_jobs{queue="${name}",state="failed"}`)).toBe('0');
      }
      expect(sample(body, 'ons_certs_requests_awaiting_approval')).toBe('1');
      expect(sample(body, 'ons_certs_oldest_awaiting_approval_seconds')).toBe('90');
      expect(sample(body, 'ons_certs_webhook_deliveries_total{event="issues",outcome="handled"}')).toBe('2');
      expect(
        sample(body, 'ons_certs_webhook_deliveries_total{event="issue_comment",outcome="ignored"}'),
      ).toBe('1');
      expect(sample(body, 'ons_certs_signing_duration_seconds_bucket{le="0.01",origin="approval"}')).toBe(
        '0',
      );
      expect(sample(body, 'ons_certs_signing_duration_seconds_bucket{le="0.025",origin="approval"}')).toBe(
        '1',
      );
      expect(sample(body, 'ons_certs_signing_duration_seconds_count{origin="approval"}')).toBe('1');
      // The process metrics come along, from this registry and not the global one.
      expect(body).toMatch(/^process_cpu_seconds_total /m);
    });
  });

  describe('the queue board is for watching and retrying failed jobs', () => {
    const put = (path: string, body?: unknown) =>
      fetch(`${base}/admin/queues${path}`, {
        method: 'PUT',
        headers: { authorization: basic(ADMIN_TOKEN), 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const readOnly = { errors: [{ code: 'board_read_only', message: expect.stringMatching(/watching/) }] };

    /** Runs one job of `mail` through a worker that succeeds or throws; returns its id. */
    async function finishedJob(outcome: 'completed' | 'failed'): Promise<string> {
      const id = `board-${outcome}-${randomBytes(3).toString('hex')}`;
      const job = await queues.mail.add('mail', { kind: outcome }, { jobId: id, attempts: 1 });
      const worker = new Worker(
        'mail',
        async () => {
          if (outcome === 'failed') throw new Error('the SMTP server said no');
        },
        { connection: redisConnection(REDIS_URL), prefix },
      );
      try {
        await expect.poll(() => job.getState(), { timeout: 10_000 }).toBe(outcome);
      } finally {
        await worker.close();
      }
      return id;
    }

    it('sends a content security policy that keeps the page to this service', async () => {
      const response = await get('/admin/queues', basic(ADMIN_TOKEN));
      expect(response.status).toBe(200);
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'self'");
      expect(policy).toContain("font-src 'self'");
      expect(policy).toContain("frame-ancestors 'none'");
      // The page itself names the font host that the policy keeps the browser from asking.
      expect(await response.text()).toContain('fonts.googleapis.com');
    });

    it('refuses adding, editing, promoting, pausing, emptying and obliterating; the jobs stay as they were', async () => {
      const waiting = await queues.approvals.add(
        'approval',
        { requestId: 'board-r2' },
        { jobId: jobIds.approval('board-r2'), delay: 60_000 },
      );
      const jobPath = `/api/queues/approvals/${encodeURIComponent(waiting.id!)}`;
      const attempts: [string, string, unknown?][] = [
        ['POST', '/api/queues/signing/add', { name: 'sign', data: { requestId: 'board-r2' } }],
        ['PATCH', `${jobPath}/update-data`, { jobData: { requestId: 'someone-else' } }],
        ['PUT', `${jobPath}/promote`],
        ['PUT', `${jobPath}/clean`],
        ['PUT', '/api/queues/approvals/promote'],
        ['PUT', '/api/queues/approvals/pause'],
        ['PUT', '/api/queues/pause'],
        ['PUT', '/api/queues/approvals/empty'],
        ['PUT', '/api/queues/approvals/clean/delayed'],
        ['PUT', '/api/queues/approvals/obliterate'],
        ['PUT', '/api/queues/approvals/retry/completed'],
        ['DELETE', jobPath],
      ];
      for (const [method, path, body] of attempts) {
        const response = await fetch(`${base}/admin/queues${path}`, {
          method,
          headers: { authorization: basic(ADMIN_TOKEN), 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        expect({ method, path, status: response.status }).toEqual({ method, path, status: 405 });
        expect(await response.json()).toEqual(readOnly);
      }
      expect(await waiting.getState()).toBe('delayed');
      expect((await queues.approvals.getJob(waiting.id!))?.data).toEqual({ requestId: 'board-r2' });
      expect(await queues.approvals.isPaused()).toBe(false);
      expect(await queues.signing.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 0, delayed: 0 });
      await waiting.remove();
    });

    it('retries a failed job, and not a completed one or one that is not there', async () => {
      const failed = await finishedJob('failed');
      const completed = await finishedJob('completed');

      const refused = await put(`/api/queues/mail/${completed}/retry`);
      expect(refused.status).toBe(409);
      expect(await refused.json()).toEqual({
        errors: [{ code: 'job_not_failed', message: expect.stringContaining('is completed') }],
      });
      expect(await queues.mail.getJobState(completed)).toBe('completed');
      expect((await put('/api/queues/mail/no-such-job/retry')).status).toBe(404);
      expect((await put(`/api/queues/no-such-queue/${failed}/retry`)).status).toBe(405);

      expect((await put(`/api/queues/mail/${failed}/retry`)).status).toBe(204);
      expect(await queues.mail.getJobState(failed)).toBe('waiting');
      await queues.mail.obliterate({ force: true });
    });

    it('retries all failed jobs of a queue at once', async () => {
      const ids = [await finishedJob('failed'), await finishedJob('failed')];
      const response = await put('/api/queues/mail/retry/failed');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ retried: 2, skipped: 0 });
      for (const id of ids) expect(await queues.mail.getJobState(id)).toBe('waiting');
      await queues.mail.obliterate({ force: true });
    });
  });
});

describe('monitoring when Redis does not answer and ADMIN_TOKEN is unset', () => {
  let testDb: TestDatabase;
  let queues: Queues;
  let server: Server | undefined;
  let base = '';
  let metrics: Metrics;

  beforeAll(async () => {
    testDb = await freshDatabase('postgres');
    const ctx = await testContext(testDb.handle);
    queues = openQueues(redisConnection(`redis://127.0.0.1:${await freePort()}`), `ons-certs-test-gone`);
    metrics = createMetrics({ queues, services: ctx });
    const app = createHttpApp({
      ca: ctx.ca,
      log: createLogger('silent'),
      services: ctx,
      adminToken: undefined,
      health: {},
      queues,
      metrics,
    });
    ({ server, url: base } = await listen(app));
  });
  afterAll(async () => {
    await closeServer(server);
    await queues?.close();
    await testDb?.drop();
  });

  it('answers 403 admin_api_off on /metrics and /admin/queues, whatever the token', async () => {
    for (const path of ['/metrics', '/admin/queues', '/admin/queues/static/css/x.css']) {
      for (const authorization of [undefined, bearer('anything-at-all-0123456789'), basic('anything')]) {
        const response = await fetch(`${base}${path}`, { headers: authorization ? { authorization } : {} });
        expect(response.status).toBe(403);
        expect(await response.json()).toEqual({
          errors: [{ code: 'admin_api_off', message: expect.any(String) }],
        });
      }
    }
  });

  it('still scrapes, without the queue gauge, when Redis does not answer', { timeout: 10_000 }, async () => {
    const body = await metrics.registry.metrics();
    expect(body).not.toMatch(/^ons_certs_queue_jobs\{/m);
    expect(sample(body, 'ons_certs_requests_awaiting_approval')).toBe('0');
    expect(body).toMatch(/^process_cpu_seconds_total /m);
  });

  it('still scrapes when the database does not answer, the approval gauges reading NaN', async () => {
    const gone = await openDatabase({ url: `postgres://postgres@127.0.0.1:${await freePort()}/gone` });
    try {
      const body = await createMetrics({ services: { db: gone.db } }).registry.metrics();
      // prom-client writes 'Nan'; Prometheus reads the value case-insensitively.
      expect(sample(body, 'ons_certs_requests_awaiting_approval')).toMatch(/^nan$/i);
      expect(sample(body, 'ons_certs_oldest_awaiting_approval_seconds')).toMatch(/^nan$/i);
      expect(body).not.toContain('ons_certs_queue_jobs');
    } finally {
      await gone.close();
    }
  });
});
