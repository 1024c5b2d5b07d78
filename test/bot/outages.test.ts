import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type nock from 'nock';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { jobIds, redisConnection } from '../../src/queue/queues.ts';
import { ensureRedis, redisAnswers, type AvailableRedis } from '../../src/queue/redis-availability.ts';
import { assertGitHubDone, startBotWorld, type BotWorld } from '../helpers/bot-world.ts';
import { APPROVERS_YAML, commentEvent, eventually, github } from '../helpers/github.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { freePort } from '../helpers/net.ts';

const alice = { login: 'alice', id: 7001 };
const log = createLogger('silent');

/** What an approval does on the ticket: the PEM comment, then one read and one PATCH (labels, closing). */
function approvalUpdates(number: number) {
  return [
    github.config(APPROVERS_YAML),
    github.comment(number, (b) => b.includes('ons-certs:approved:') && b.includes('BEGIN CERTIFICATE')),
    ...github.decided(number, 'approved', 'completed'),
  ];
}

/** The approval's ticket updates all made, and the line signed with a certificate. */
async function expectSigned(world: BotWorld, code: string, updates: nock.Scope[]): Promise<void> {
  await eventually(() => expect(updates.every((s) => s.isDone())).toBe(true), 20_000);
  const line = await world.line(code);
  expect(line?.request?.state).toBe('signed');
  expect(line?.certificate?.serial).toMatch(/^[0-9a-f]+$/);
}

/**
 * Redis restarts (its own redis-server here, append-only as deployed, so that stopping it does
 * not disturb the other tests' Redis), and PostgreSQL drops the service's connections, while
 * tickets wait and approvals arrive. Nothing may be lost or done twice.
 */
describe('outages: a Redis restart and dropped PostgreSQL connections', () => {
  let world: BotWorld;
  let redis: AvailableRedis;
  let redisUrl = '';
  let redisDir = '';

  beforeAll(async () => {
    redisUrl = `redis://127.0.0.1:${await freePort()}`;
    redisDir = await tempDir('ons-certs-outage-');
    redis = await ensureRedis(redisUrl, redisDir, log);
    expect(redis.startedChild).toBe(true);
    world = await startBotWorld({ env: { REDIS_URL: redisUrl } });
  }, 60_000);
  afterAll(async () => {
    await world?.close();
    await redis?.stop();
  });
  afterEach(assertGitHubDone);

  it('an /approve that arrives while Redis is down is carried out once it is back: one certificate', async () => {
    const { issue } = await world.openTicket(71, 'TE1234');
    const updates = approvalUpdates(71);

    await redis.stop();
    expect(await redisAnswers(redisUrl)).toBe(false);
    // The handler waits for Redis to queue the signing rather than dropping the approval.
    const answer = world.comment(issue, 7101, '/approve', alice);
    await sleep(1500);
    expect((await world.line('TE1234'))?.request?.state).toBe('awaiting_approval');

    redis = await ensureRedis(redisUrl, redisDir, log);
    expect((await answer).status).toBe(200);
    await expectSigned(world, 'TE1234', updates);
  });

  it("a ticket's waiting approval survives the restart: a later /approve still wakes it", async () => {
    const { issue } = await world.openTicket(72, 'TE1235');
    const requestId = (await world.line('TE1235'))?.request?.id ?? '';
    const connection = redisConnection(redisUrl);
    const approvals = new Queue('approvals', { connection, prefix: world.bot.env['QUEUE_PREFIX'] });
    try {
      const approvalState = () => approvals.getJobState(jobIds.approval(requestId));
      expect(await approvalState()).toBe('delayed');
      await redis.stop();
      redis = await ensureRedis(redisUrl, redisDir, log);
      // Asleep until its first reminder, as before the restart.
      expect(await approvalState()).toBe('delayed');

      const updates = approvalUpdates(72);
      expect((await world.comment(issue, 7201, '/approve', alice)).status).toBe(200);
      await eventually(() => expect(updates.every((s) => s.isDone())).toBe(true), 20_000);
      expect((await world.line('TE1235'))?.request?.state).toBe('signed');
      await eventually(async () => expect(await approvalState()).toBe('completed'));
    } finally {
      await approvals.close();
      connection.disconnect();
    }
  });

  it('PostgreSQL dropping every connection of the service (a restart): the next /approve is handled and signs once', async () => {
    const { issue } = await world.openTicket(73, 'TE1236');
    const databaseUrl = world.bot.env['DATABASE_URL']!;
    const admin = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
    try {
      const [row] = await admin<{ dropped: number }[]>`
        select count(pg_terminate_backend(pid))::int as dropped from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()`;
      expect(row?.dropped).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }

    const updates = approvalUpdates(73);
    // The first statements meet dead connections: they are tried again on new ones, and the
    // delivery is answered as handled (GitHub would not send a failed one again by itself).
    expect((await world.comment(issue, 7301, '/approve', alice)).status).toBe(200);
    await expectSigned(world, 'TE1236', updates);
  });

  it('a delivery that cannot be handled answers 500 without internals, and its redelivery is handled', async () => {
    const { issue } = await world.openTicket(74, 'CF1235');
    const sql = postgres(world.bot.env['DATABASE_URL']!, { max: 1, onnotice: () => undefined });
    const event = commentEvent(issue, { id: 7401, body: '/approve', user: alice });
    try {
      // Not a connection failure: nothing to try again, the delivery fails at once.
      await sql`alter table webhook_deliveries rename to webhook_deliveries_away`;
      const failed = await world.bot.deliver('issue_comment', event, 'delivery-74');
      expect(failed.status).toBe(500);
      const body = await failed.text();
      expect(body).toContain("handling delivery delivery-74 failed; the service's log has the reason");
      expect(body).not.toMatch(/webhook_deliveries|insert|select/i);
    } finally {
      await sql`alter table if exists webhook_deliveries_away rename to webhook_deliveries`;
      await sql.end({ timeout: 1 });
    }
    // GitHub's "Redeliver": the same delivery id, handled now.
    const updates = approvalUpdates(74);
    expect((await world.bot.deliver('issue_comment', event, 'delivery-74')).status).toBe(200);
    await expectSigned(world, 'CF1235', updates);
  });

  it('Redis losing its data: the waiting approval job is put back, asleep until its first reminder', async () => {
    const { issue } = await world.openTicket(75, 'CF1234');
    const requestId = (await world.line('CF1234'))?.request?.id ?? '';
    const connection = redisConnection(redisUrl);
    const prefix = world.bot.env['QUEUE_PREFIX'];
    const approvals = new Queue('approvals', { connection, prefix });
    const maintenance = new Queue('maintenance', { connection, prefix });
    try {
      const before = await approvals.getJob(jobIds.approval(requestId));
      expect(await before?.getState()).toBe('delayed');
      const wakesAt = before!.timestamp + before!.opts.delay!;

      // A restart without its append-only file: every queue is empty afterwards.
      await redis.stop();
      await rm(join(redisDir, 'redis'), { recursive: true, force: true });
      redis = await ensureRedis(redisUrl, redisDir, log);
      expect(await approvals.getJobState(jobIds.approval(requestId))).toBe('unknown');

      // The daily maintenance round (also run at every worker start) puts it back.
      await maintenance.add('expiry-scan', {});
      await eventually(async () =>
        expect(await approvals.getJobState(jobIds.approval(requestId))).toBe('delayed'),
      );
      const after = await approvals.getJob(jobIds.approval(requestId));
      expect(after?.data).toEqual(before?.data);
      expect(Math.abs(after!.timestamp + after!.opts.delay! - wakesAt)).toBeLessThan(5_000);

      const updates = approvalUpdates(75);
      expect((await world.comment(issue, 7501, '/approve', alice)).status).toBe(200);
      await expectSigned(world, 'CF1234', updates);
      await eventually(async () =>
        expect(await approvals.getJobState(jobIds.approval(requestId))).toBe('completed'),
      );
    } finally {
      await approvals.close();
      await maintenance.close();
      connection.disconnect();
    }
  });
});
