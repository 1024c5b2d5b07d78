import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisConnection } from '../../src/queue/queues.ts';
import { assertGitHubDone, quietFor, startBotWorld, type BotWorld } from '../helpers/bot-world.ts';
import { APPROVERS_YAML, eventually, github } from '../helpers/github.ts';
import { REDIS_URL } from '../helpers/queues.ts';

// Probot's own Octokit as in production, with an hourly budget of 2 writes: the intake spends
// them (comment and label), so the PEM comment must wait for the hour, as a delayed job.
let world: BotWorld;

beforeAll(async () => {
  world = await startBotWorld({ productionOctokit: true, env: { GITHUB_WRITES_PER_HOUR: '2' } });
}, 60_000);
afterAll(async () => world?.close());
afterEach(assertGitHubDone);

describe("GitHub's hourly write budget", () => {
  it('a write past it is not sent: its job waits, delayed until the hour is over, and fails nothing', async () => {
    const openedAt = Date.now();
    const { issue } = await world.openTicket(401, 'TE1234');
    const config = github.config(APPROVERS_YAML);
    const connection = redisConnection(REDIS_URL);
    const queue = new Queue('github', { connection, prefix: world.bot.env['QUEUE_PREFIX'] });
    try {
      const alice = { login: 'alice', id: 7001 };
      expect((await world.comment(issue, 40101, '/approve', alice)).status).toBe(200);
      await eventually(() => expect(config.isDone()).toBe(true));
      // The certificate is signed at once; only its comment waits (nock refuses any write).
      await eventually(async () => expect((await world.line('TE1234'))?.request?.state).toBe('signed'));
      await eventually(async () =>
        expect(await queue.getJobCounts('delayed', 'failed')).toEqual({ delayed: 1, failed: 0 }),
      );
      const [job] = await queue.getDelayed();
      // Until the first of the two writes is an hour old (BullMQ keeps the delay from the move).
      const hour = 3600_000;
      expect(job!.delay).toBeGreaterThan(hour - (Date.now() - openedAt) - 1000);
      expect(job!.delay).toBeLessThanOrEqual(hour);
      expect(job!.attemptsMade).toBe(0);
      await quietFor(300);
    } finally {
      await queue.close();
      await connection.quit();
    }
  }, 40_000);
});
