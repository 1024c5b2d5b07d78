import { setTimeout as sleep } from 'node:timers/promises';
import { Worker, type Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { REDIS_URL, useTestQueues } from '../helpers/queues.ts';
import { createLogger } from '../../src/log.ts';
import { addCrlRefresh, createCrlRefresher, CRL_REFRESH } from '../../src/queue/crl-refresh.ts';
import { processMaintenance } from '../../src/queue/maintenance-worker.ts';
import { openQueues, redisConnection } from '../../src/queue/queues.ts';
import { eventually } from '../helpers/github.ts';
import { freePort } from '../helpers/net.ts';

describe('CRL refresh jobs on the real Redis', () => {
  const world = useTestQueues('crl-');
  const { prefix } = world;

  it('coalesces a burst: one job while one waits, exactly one more while one runs, so the last change is read', async () => {
    // Nobody works the queue yet: twenty changes leave one waiting job.
    await Promise.all(Array.from({ length: 20 }, (_, i) => addCrlRefresh(world.queues, `change ${i}`)));
    expect(await world.queues.maintenance.getJobCounts('waiting')).toEqual({ waiting: 1 });

    const ran: { at: number; why: string }[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const worker = new Worker(
      'maintenance',
      async (job: Job<{ why: string }>) => {
        ran.push({ at: Date.now(), why: job.data.why });
        if (ran.length === 1) await gate;
      },
      { connection: redisConnection(REDIS_URL), prefix, concurrency: 2 },
    );
    try {
      await eventually(() => expect(ran).toHaveLength(1));
      // While the first runs (it has read the certificates already), more changes come.
      await Promise.all(Array.from({ length: 20 }, (_, i) => addCrlRefresh(world.queues, `later ${i}`)));
      release();
      await eventually(() => expect(ran).toHaveLength(2));
      await sleep(300);
      // Never two at once, and the second started after the first ended.
      expect(ran).toHaveLength(2);
      expect(ran[1]!.why).toBe('later 19');
      expect(await world.queues.maintenance.getJobCounts('waiting', 'active', 'delayed')).toEqual({
        waiting: 0,
        active: 0,
        delayed: 0,
      });
      // Once all is done, a new change makes a new job.
      await addCrlRefresh(world.queues, 'next day');
      await eventually(() => expect(ran.map((r) => r.why)).toContain('next day'));
    } finally {
      await worker.close();
      await (worker.opts.connection as { quit(): Promise<unknown> }).quit();
    }
  });

  it('the maintenance worker signs a CRL for a crl-refresh job', async () => {
    let signed = 0;
    const process = processMaintenance({
      db: undefined as never,
      queues: world.queues,
      log: createLogger('silent'),
      publicUrl: 'http://localhost:3000',
      reminderDays: 30,
      dayMs: 24 * 3600_000,
      now: () => new Date(),
      publishCrl: async () => ({ number: ++signed, entries: 3 }),
    });
    expect(await process({ name: CRL_REFRESH, data: {} } as Job)).toEqual({ crlNumber: 1, entries: 3 });
  });

  it('signs the CRL in the web process when Redis does not take the job', async () => {
    const nowhere = redisConnection(`redis://127.0.0.1:${await freePort()}`);
    nowhere.on('error', () => undefined);
    const offline = openQueues(nowhere, prefix);
    let published = 0;
    const refresher = createCrlRefresher({
      queues: offline,
      log: createLogger('silent'),
      publishNow: async () => void published++,
      queueTimeoutMs: 200,
    });
    try {
      const started = Date.now();
      await refresher.certificateStatusChanged({ serial: 'ab', enabled: false, at: new Date() });
      expect(published).toBe(1);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      nowhere.disconnect();
      await offline.close();
    }
  });
});
