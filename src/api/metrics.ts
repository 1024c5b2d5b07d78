import type { JobType } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { QUEUE_NAMES, type Queues } from '../queue/queues.ts';
import type { ServiceContext } from '../services/context.ts';
import {
  approvalBacklog,
  newestCrlNextUpdate,
  type ApprovalBacklog,
} from '../services/monitoring-figures.ts';

/** What Nedap support's Prometheus scrapes at GET /metrics. */
export interface Metrics {
  /** Our own registry (not prom-client's global one), so tests and several apps do not collide. */
  registry: Registry;
  /** GitHub webhook deliveries by event name and what became of them (e.g. handled, ignored, failed). */
  webhookDeliveries: Counter<'event' | 'outcome'>;
  /** How long signing a CSR takes, by what asked for it (e.g. upload, approval, renewal). */
  signingSeconds: Histogram<'origin'>;
  /** CRLs that could not be signed or stored (each one also logged at error level). */
  crlFailures: Counter;
  /** Wrong tokens presented, by where: `api_token` (Authorization) or `sign_in` (the form). */
  authFailures: Counter<'kind'>;
  /** Attempts refused with 429 because their address had too many wrong tokens, by where. */
  authThrottled: Counter<'kind'>;
  /** GitHub's rate-limit answers (403/429) to `github` jobs, by `limit`: `primary` or `secondary`. */
  githubRateLimited: Counter<'limit'>;
}

/**
 * Every state a BullMQ 6 job can be in. There is no `paused` any more: the jobs of a paused queue
 * stay in `waiting` (BullMQ's own type refuses the name).
 */
const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'completed',
  'failed',
  'prioritized',
  'waiting-children',
] as const satisfies readonly JobType[];

/**
 * A scrape must answer well within Prometheus' scrape timeout (10 s by default) even when Redis
 * or the database does not: the queue connection retries forever, so a command would wait.
 */
const COLLECT_TIMEOUT_MS = 2000;

/**
 * The registry with the process metrics, the counters the bot and workers increment, and gauges
 * read at scrape time: jobs per queue and state, and the requests waiting for an organisation's
 * approval. A source that does not answer never fails the scrape (the rest still arrives): the
 * queue gauge is then left out, and the approval gauges, which have no labels to leave out, read
 * NaN rather than a stale value or a reassuring 0.
 */
export function createMetrics(deps: {
  queues?: Queues | undefined;
  /** Where the gauges read the CRL and the requests awaiting approval. */
  services: Pick<ServiceContext, 'db'>;
  now?: () => Date;
}): Metrics {
  const now = deps.now ?? (() => new Date());
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const webhookDeliveries = new Counter({
    name: 'ons_certs_webhook_deliveries_total',
    help: 'GitHub webhook deliveries received, by event and outcome',
    labelNames: ['event', 'outcome'] as const,
    registers: [registry],
  });

  const signingSeconds = new Histogram({
    name: 'ons_certs_signing_duration_seconds',
    help: 'Time to sign a CSR into a certificate, by what asked for it',
    labelNames: ['origin'] as const,
    // An RSA-4096 signature takes milliseconds; seconds mean a slow database or a busy worker.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const crlFailures = new Counter({
    name: 'ons_certs_crl_failures_total',
    help: 'Failures to sign or store a new CRL',
    registers: [registry],
  });

  const authFailures = new Counter({
    name: 'ons_certs_auth_failures_total',
    help: 'Wrong tokens presented, by kind: api_token (Authorization header) or sign_in (the sign-in form)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const authThrottled = new Counter({
    name: 'ons_certs_auth_throttled_total',
    help: 'Attempts answered 429 because their client address presented too many wrong tokens, by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const githubRateLimited = new Counter({
    name: 'ons_certs_github_rate_limited_total',
    help: "GitHub's rate-limit answers (403/429) to github jobs, each delaying its job, by limit: primary or secondary",
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  for (const limit of ['primary', 'secondary']) githubRateLimited.inc({ limit }, 0);
  // Both kinds from the first scrape on, so that a rate() over them has a start.
  for (const kind of ['api_token', 'sign_in']) {
    authFailures.inc({ kind }, 0);
    authThrottled.inc({ kind }, 0);
  }

  new Gauge({
    name: 'ons_certs_crl_next_update_seconds',
    help: "Seconds until the newest CRL's nextUpdate (negative: expired; NaN: none, or no database)",
    registers: [registry],
    async collect() {
      const nextUpdate = await within(newestCrlNextUpdate(deps.services), COLLECT_TIMEOUT_MS);
      this.set(nextUpdate ? (nextUpdate.getTime() - now().getTime()) / 1000 : NaN);
    },
  });

  const { queues } = deps;
  if (queues) {
    new Gauge({
      name: 'ons_certs_queue_jobs',
      help: 'Jobs in each queue by state',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
      async collect() {
        // Values from an earlier scrape must not pass for current ones when Redis is gone.
        this.reset();
        await Promise.all(
          QUEUE_NAMES.map(async (name) => {
            const counts = await within(queues[name].getJobCounts(...JOB_STATES), COLLECT_TIMEOUT_MS);
            if (!counts) return;
            for (const state of JOB_STATES) this.set({ queue: name, state }, counts[state] ?? 0);
          }),
        );
      },
    });
  }

  // Both gauges come from one query; the registry collects them at the same time, so they
  // share the query in flight.
  let pending: Promise<ApprovalBacklog | undefined> | undefined;
  const awaitingApproval = () =>
    (pending ??= within(approvalBacklog(deps.services), COLLECT_TIMEOUT_MS).finally(() => {
      pending = undefined;
    }));

  new Gauge({
    name: 'ons_certs_requests_awaiting_approval',
    help: "Certificate requests waiting for the healthcare organisation's approval",
    registers: [registry],
    async collect() {
      const row = await awaitingApproval();
      this.set(row ? row.waiting : NaN);
    },
  });

  new Gauge({
    name: 'ons_certs_oldest_awaiting_approval_seconds',
    help: 'Age of the oldest request waiting for approval (0 when none waits)',
    registers: [registry],
    async collect() {
      const row = await awaitingApproval();
      if (!row) return this.set(NaN);
      const age = row.oldest ? (now().getTime() - new Date(row.oldest).getTime()) / 1000 : 0;
      this.set(Math.max(0, age));
    },
  });

  return {
    registry,
    webhookDeliveries,
    signingSeconds,
    crlFailures,
    authFailures,
    authThrottled,
    githubRateLimited,
  };
}

/** The value, or undefined when the work fails or takes longer than `ms`. */
async function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work.catch(() => undefined),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
