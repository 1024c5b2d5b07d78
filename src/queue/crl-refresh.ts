import type { JobsOptions } from 'bullmq';
import type { CrlRefresher } from '../core/crl-refresher.ts';
import type { Logger } from '../log.ts';
import type { Queues } from './queues.ts';

/** The `maintenance` job that signs a new CRL from the certificates as they are then. */
export const CRL_REFRESH = 'crl-refresh';

/**
 * One job per change, coalesced: while a refresh waits, more changes add nothing (it will read
 * them all); while one runs, the changes after it started leave exactly one more waiting
 * (BullMQ's keepLastIfActive), so a burst makes at most two CRLs and the last change is always
 * on the last one.
 */
const CRL_REFRESH_JOB: JobsOptions = {
  deduplication: { id: CRL_REFRESH, keepLastIfActive: true },
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
};

/** Adds a coalesced CRL refresh to the `maintenance` queue. */
export async function addCrlRefresh(queues: Queues, why: string): Promise<void> {
  await queues.maintenance.add(CRL_REFRESH, { why }, CRL_REFRESH_JOB);
}

/**
 * The CrlRefresher of the service: queues a refresh after every enable/disable. When Redis does
 * not take the job, the CRL is signed right here instead (`publishNow`), so that a disable never
 * waits for the next daily CRL.
 */
export function createCrlRefresher(deps: {
  queues: Queues;
  log: Logger;
  publishNow?: () => Promise<unknown>;
  /** How long to wait for Redis to take the job (its connection waits forever for Redis). */
  queueTimeoutMs?: number;
}): CrlRefresher {
  return {
    async certificateStatusChanged(event) {
      const why = `${event.enabled ? 'enabled' : 'disabled'} ${event.serial}`;
      try {
        await withinMs(addCrlRefresh(deps.queues, why), deps.queueTimeoutMs ?? 2000);
      } catch (error) {
        deps.log.warn({ err: error, serial: event.serial }, 'could not queue a CRL refresh; signing it here');
        try {
          await deps.publishNow?.();
        } catch {
          // The publisher has logged it and counted it in ons_certs_crl_failures_total.
        }
      }
    },
  };
}

/**
 * Keeps the CRL fresh without any change: a refresh every half of its validity (at most a day),
 * so gateways that fetch it now and then never hold an expired one, and one at start-up, so a new
 * deployment has a CRL and one that was down catches up. The scheduler has a fixed id: several
 * workers schedule it once.
 */
export async function scheduleCrlRefresh(queues: Queues, validityHours: number): Promise<void> {
  const every = Math.min(24 * 3600_000, (validityHours * 3600_000) / 2);
  await queues.maintenance.upsertJobScheduler(
    'crl-refresh',
    { every },
    {
      name: CRL_REFRESH,
      data: { why: 'scheduled' },
      opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
    },
  );
  await addCrlRefresh(queues, 'start-up');
}

async function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
