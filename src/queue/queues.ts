import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';

/** The queues Nedap support watches (product.md, "Queues"). */
export const QUEUE_NAMES = ['approvals', 'signing', 'github', 'mail', 'maintenance'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/**
 * Job ids are derived from what a job acts on, so adding the same work twice adds one job
 * (a redelivered webhook, two approvers at once, a retried worker). BullMQ refuses ':' in
 * custom ids, hence the dashes.
 */
export const jobIds = {
  approval: (requestId: string) => `approval-${requestId}`,
  sign: (requestId: string) => `sign-${requestId}`,
  ticketUpdate: (kind: string, key: string | number) => `github-${kind}-${key}`,
  mail: (kind: string, key: string) => `mail-${kind}-${key}`,
};

/** Retries with exponential backoff for work that talks to the outside world. */
export const RETRYING: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** A Redis connection as BullMQ's workers require it (no per-command retry limit). */
export function redisConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
}

export type Queues = Record<QueueName, Queue> & { close(): Promise<void> };

/**
 * The five queues under one prefix (QUEUE_PREFIX), sharing one connection. BullMQ does not
 * close a connection it was given, so `close()` quits it too, and gives up waiting when Redis
 * is gone (a quit would otherwise wait for it forever).
 */
export function openQueues(
  connection: Redis,
  prefix: string,
  onError: (error: Error) => void = () => undefined,
): Queues {
  const queues = Object.fromEntries(
    QUEUE_NAMES.map((name) => {
      const queue = new Queue(name, { connection, prefix });
      queue.on('error', onError);
      return [name, queue];
    }),
  ) as Record<QueueName, Queue>;
  return {
    ...queues,
    async close() {
      await settleWithin(Promise.all(QUEUE_NAMES.map((name) => queues[name].close())), 2000);
      if (connection.status === 'ready') await settleWithin(connection.quit(), 2000);
      connection.disconnect();
    },
  };
}

/** Waits for `work` at most `ms`; its failure counts as done (used when closing). */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
