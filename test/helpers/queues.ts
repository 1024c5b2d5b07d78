import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { openQueues, QUEUE_NAMES, redisConnection, type Queues } from '../../src/queue/queues.ts';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The five queues on the real Redis under a prefix of the test file's own: opened before its
 * tests, emptied and closed after them. Read `queues` inside the tests (it is set in beforeAll).
 */
export function useTestQueues(tag: string): { prefix: string; queues: Queues } {
  const held = {
    prefix: `ons-certs-test-${tag}${randomBytes(4).toString('hex')}`,
    queues: undefined! as Queues,
  };
  beforeAll(async () => {
    const connection = redisConnection(REDIS_URL);
    await connection.connect();
    held.queues = openQueues(connection, held.prefix);
  });
  afterAll(async () => {
    await Promise.all(QUEUE_NAMES.map((name) => held.queues[name].obliterate({ force: true })));
    await held.queues.close();
  });
  return held;
}
