import { Worker, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import type { OctokitForInstallation } from '../bot/ticket-operations.ts';
import type { Logger } from '../log.ts';
import type { ServiceContext } from '../services/context.ts';
import type { Mailer } from '../mail/mailer.ts';
import { processApproval } from './approvals-worker.ts';
import { scheduleCrlRefresh } from './crl-refresh.ts';
import { processMail } from './mail-worker.ts';
import { processMaintenance, scheduleMaintenance } from './maintenance-worker.ts';
import { redisConnection, settleWithin, type QueueName, type Queues } from './queues.ts';
import { processSigning } from './signing-worker.ts';
import { githubBackoff, processTicketUpdate } from './ticket-update-worker.ts';

export interface WorkerDeps {
  services: ServiceContext;
  queues: Queues;
  log: Logger;
  redisUrl: string;
  prefix: string;
  publicUrl: string;
  dayMs: number;
  /** The GitHub App; without it the `github` queue is not worked (its jobs wait for a worker that has it). */
  github:
    | {
        appId: number;
        octokitFor: OctokitForInstallation;
        onRateLimited?: (limit: 'primary' | 'secondary') => void;
      }
    | undefined;
  /** How many `github` jobs run at once; GitHub's secondary limits favour few. */
  githubConcurrency?: number;
  signingConcurrency?: number;
  observeSigning?: (seconds: number) => void;
  mailer: Mailer;
  /** REMINDER_DAYS and the time of day (UTC) of the daily expiry scan. */
  reminderDays: number;
  expiryScanAt: { hour: number; minute: number };
  /** The CRL: signed by `crl-refresh` jobs after every enable/disable and every CRL_VALIDITY_HOURS / 2. */
  crl?: { publish: () => Promise<{ number: number; entries: number }>; validityHours: number };
}

export interface RunningWorkers {
  close(): Promise<void>;
}

/** Starts the workers of the five queues, and schedules the daily expiry scan and the CRL refresh. */
export function startWorkers(deps: WorkerDeps): RunningWorkers {
  const workers: Worker[] = [];
  const start = <T>(name: QueueName, processor: Processor<T>, concurrency: number, extra = {}) => {
    const worker = new Worker<T>(name, processor, {
      connection: redisConnection(deps.redisUrl),
      prefix: deps.prefix,
      concurrency,
      ...extra,
    });
    worker.on('error', (error) =>
      deps.log.warn({ err: error, queue: name }, 'worker error (is Redis answering?)'),
    );
    worker.on('failed', (job, error) =>
      deps.log.warn(
        { queue: name, job: job?.id, attempts: job?.attemptsMade, err: error.message },
        'job failed',
      ),
    );
    workers.push(worker);
  };
  start('approvals', processApproval(deps), 10);
  start('signing', processSigning(deps), deps.signingConcurrency ?? 16);
  start('mail', processMail({ db: deps.services.db, mailer: deps.mailer, log: deps.log }), 4);
  start(
    'maintenance',
    processMaintenance({
      db: deps.services.db,
      queues: deps.queues,
      log: deps.log,
      publicUrl: deps.publicUrl,
      reminderDays: deps.reminderDays,
      now: deps.services.now,
      dayMs: deps.dayMs,
      publishCrl: deps.crl?.publish,
    }),
    // Two: a CRL refresh (seconds after a disable) must not wait for a long expiry scan.
    2,
  );
  void scheduleMaintenance(deps.queues, deps.expiryScanAt, deps.services.now()).catch((error: unknown) =>
    deps.log.error({ err: error }, 'the daily expiry scan could not be scheduled (is Redis answering?)'),
  );
  if (deps.crl) {
    void scheduleCrlRefresh(deps.queues, deps.crl.validityHours).catch((error: unknown) =>
      deps.log.error({ err: error }, 'the CRL refresh could not be scheduled (is Redis answering?)'),
    );
  }
  if (deps.github) {
    const github = { ...deps.github, octokitFor: cachedOctokits(deps.github.octokitFor) };
    start(
      'github',
      processTicketUpdate({ ...github, queues: deps.queues, log: deps.log }),
      deps.githubConcurrency ?? 8,
      {
        settings: { backoffStrategy: githubBackoff },
      },
    );
  } else {
    deps.log.warn('the GitHub App is not configured: ticket updates wait in the github queue');
  }
  return {
    async close() {
      deps.mailer.close();
      await Promise.all(
        workers.map(async (worker) => {
          const connection = worker.opts.connection as Redis;
          // A worker waits for Redis to close: when Redis is gone, give up after a while.
          await settleWithin(worker.close(), 2000);
          if (connection.status === 'ready') await settleWithin(connection.quit(), 2000);
          connection.disconnect();
        }),
      );
    },
  };
}

/**
 * One Octokit per installation, kept for an hour: it renews its installation token itself, and
 * making a new one per job costs an authentication round on the hot path.
 */
function cachedOctokits(octokitFor: OctokitForInstallation): OctokitForInstallation {
  const cache = new Map<number, { octokit: ReturnType<OctokitForInstallation>; until: number }>();
  return (installationId) => {
    const now = Date.now();
    const hit = cache.get(installationId);
    if (hit && hit.until > now) return hit.octokit;
    if (cache.size > 1000) cache.clear();
    const octokit = octokitFor(installationId);
    cache.set(installationId, { octokit, until: now + 60 * 60_000 });
    // A failed authentication is not kept: the next job asks again.
    octokit.catch(() => cache.delete(installationId));
    return octokit;
  };
}
