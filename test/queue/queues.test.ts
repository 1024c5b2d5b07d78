import { describe, expect, it } from 'vitest';
import { REDIS_URL, useTestQueues } from '../helpers/queues.ts';
import { jobIds, redisConnection, RETRYING } from '../../src/queue/queues.ts';

describe('the queues, on the real Redis', () => {
  const world = useTestQueues('');
  const { prefix } = world;

  it('adds the same work once, whatever the number of attempts', async () => {
    const requestId = '6f1c2a47-2d9e-4a57-9b5e-0e6c1f6b3d21';
    const added = await Promise.all(
      Array.from({ length: 10 }, () =>
        world.queues.signing.add('sign', { requestId }, { ...RETRYING, jobId: jobIds.sign(requestId) }),
      ),
    );
    expect(new Set(added.map((job) => job.id))).toEqual(new Set([`sign-${requestId}`]));
    expect(await world.queues.signing.getJobCounts('waiting', 'delayed', 'active')).toEqual({
      waiting: 1,
      delayed: 0,
      active: 0,
    });
    const job = await world.queues.signing.getJob(`sign-${requestId}`);
    expect(job?.data).toEqual({ requestId });
    expect(job?.opts.attempts).toBe(8);
  });

  it('keeps its keys under QUEUE_PREFIX, so deployments and tests can share one Redis', async () => {
    await world.queues.approvals.add(
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
    expect(await world.queues.approvals.getJobCounts('delayed')).toEqual({ delayed: 1 });
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
