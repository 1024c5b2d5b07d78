import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  jobIds,
  openQueues,
  QUEUE_NAMES,
  redisConnection,
  RETRYING,
  type Queues,
} from '../../src/queue/queues.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('the queues, on the real Redis', () => {
  const prefix = `ons-certs-test-${randomBytes(4).toString('hex')}`;
  let queues: Queues;

  beforeAll(async () => {
    const connection = redisConnection(REDIS_URL);
    await connection.connect();
    queues = openQueues(connection, prefix);
  });
  afterAll(async () => {
    await Promise.all(QUEUE_NAMES.map((name) => queues[name].obliterate({ force: true })));
    await queues.close();
  });

  it('adds the same work once, whatever the number of attempts', async () => {
    const requestId = '6f1c2a47-2d9e-4a57-9b5e-0e6c1f6b3d21';
    const added = await Promise.all(
      Array.from({ length: 10 }, () =>
        queues.signing.add('sign', { requestId }, { ...RETRYING, jobId: jobIds.sign(requestId) }),
      ),
    );
    expect(new Set(added.map((job) => job.id))).toEqual(new Set([`sign-${requestId}`]));
    expect(await queues.signing.getJobCounts('waiting', 'delayed', 'active')).toEqual({
      waiting: 1,
      delayed: 0,
      active: 0,
    });
    const job = await queues.signing.getJob(`sign-${requestId}`);
    expect(job?.data).toEqual({ requestId });
    expect(job?.opts.attempts).toBe(8);
  });

  it('keeps its keys under QUEUE_PREFIX, so deployments and tests can share one Redis', async () => {
    await queues.approvals.add(
      'approval',
      { requestId: 'r1' },
      { jobId: jobIds.approval('r1'), delay: 60_000 },
    );
    const redis = redisConnection(REDIS_URL);
    try {
      expect((await redis.keys(`${prefix}:approvals:*`)).length).toBeGreaterThan(0);
      expect(await redis.keys(`ons-certs:approvals:*approval-r1*`)).toEqual([]);
    } finally {
      await redis.quit();
    }
    expect(await queues.approvals.getJobCounts('delayed')).toEqual({ delayed: 1 });
  });

  it('derives ids BullMQ accepts (no colon, never an integer)', () => {
    for (const id of [
      jobIds.sign('abc'),
      jobIds.ticketUpdate('approved', 17),
      jobIds.mail('reminder', 'x'),
    ]) {
      expect(id).not.toContain(':');
      expect(`${parseInt(id, 10)}`).not.toBe(id);
    }
  });
});
