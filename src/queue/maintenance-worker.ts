import type { Job } from 'bullmq';
import { runExpiryScan, type ExpiryScanDeps } from '../mail/expiry-scan.ts';
import { restoreApprovalJobs } from './approvals-restore.ts';
import { CRL_REFRESH } from './crl-refresh.ts';
import type { Queues } from './queues.ts';

export const EXPIRY_SCAN = 'expiry-scan';

export interface MaintenanceDeps extends ExpiryScanDeps {
  now: () => Date;
  /** The length of a day of reminder_days and expire_days (for approval jobs put back). */
  dayMs: number;
  /** Signs and stores a new CRL (src/services/crl-publisher.ts). */
  publishCrl?: () => Promise<{ number: number; entries: number }>;
}

/** Runs the scheduled jobs of the `maintenance` queue. */
export function processMaintenance(deps: MaintenanceDeps) {
  return async (job: Job): Promise<unknown> => {
    if (job.name === EXPIRY_SCAN) {
      // The daily round (and the one at start-up) also puts back approval jobs Redis lost.
      const scan = await runExpiryScan(deps, deps.now());
      return { ...scan, approvalJobsRestored: await restoreApprovalJobs(deps) };
    }
    if (job.name === CRL_REFRESH && deps.publishCrl) {
      const crl = await deps.publishCrl();
      return { crlNumber: crl.number, entries: crl.entries };
    }
    throw new Error(`unknown maintenance job "${job.name}"`);
  };
}

/**
 * Schedules the daily expiry scan at `at` (HH:MM, UTC) and queues one scan now, so that a
 * service that was down at scan time catches up when it comes back. Several workers doing this
 * at once schedule it once: the scheduler and the start-up job have fixed ids.
 */
export async function scheduleMaintenance(queues: Queues, at: { hour: number; minute: number }, now: Date) {
  await queues.maintenance.upsertJobScheduler(
    'daily-expiry-scan',
    { pattern: `${at.minute} ${at.hour} * * *`, tz: 'UTC' },
    { name: EXPIRY_SCAN, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
  );
  // One start-up scan per hour at most, however many workers start.
  const hour = now
    .toISOString()
    .slice(0, 13)
    .replace(/[^0-9]/g, '');
  await queues.maintenance.add(
    EXPIRY_SCAN,
    {},
    { jobId: `expiry-scan-start-${hour}`, removeOnComplete: { count: 100 } },
  );
}
