import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createAuthThrottle } from './api/auth-throttle.ts';
import { answerClientErrors } from './api/client-errors.ts';
import { crlRoutes } from './api/crl-routes.ts';
import { createMetrics } from './api/metrics.ts';
import { createHttpApp } from './api/server.ts';
import { botApp } from './bot/app.ts';
import { DAY_MS } from './bot/bot-deps.ts';
import { createGitHubApp, type GitHubAppOptions } from './bot/github-app.ts';
import { webhookRoute } from './bot/webhook-route.ts';
import type { CertificateAuthority } from './ca/certificate-authority.ts';
import { openCertificateAuthority } from './ca/open-ca.ts';
import type { Config } from './config.ts';
import { humanDuration } from './core/duration.ts';
import { openDatabase, type DatabaseHandle } from './db/database.ts';
import type { Logger } from './log.ts';
import { createCrlRefresher } from './queue/crl-refresh.ts';
import { openQueues, redisConnection } from './queue/queues.ts';
import { createMailNotifier } from './mail/mail-notifier.ts';
import { createMailer } from './mail/mailer.ts';
import { ensureRedis } from './queue/redis-availability.ts';
import { startWorkers } from './queue/workers.ts';
import type { ServiceContext } from './services/context.ts';
import { createCrlPublisher } from './services/crl-publisher.ts';
import { startRenewalListener } from './est/renewal-listener.ts';
import { pageRoutes } from './web/page-routes.ts';

export interface RunningService {
  url: string;
  /** The EST renewal listener's port, when RENEW_PORT is set. */
  renewalPort?: number | undefined;
  close(): Promise<void>;
}

/**
 * PostgreSQL when DATABASE_URL is set, else the embedded PGlite under DATA_DIR (locked for this
 * process: a second one is refused with DatabaseInUse); migrated. `command` names this process
 * to the one refused.
 */
export async function openConfiguredDatabase(
  config: Readonly<Config>,
  log: Logger,
  command = 'ons-certs',
): Promise<DatabaseHandle> {
  const pgliteDir = config.databaseUrl ? undefined : join(config.dataDir, 'pglite');
  // The first start makes the database (initdb and all, several seconds): say so, not silence.
  const creating = pgliteDir !== undefined && !existsSync(join(pgliteDir, 'PG_VERSION'));
  let started = Date.now();
  if (pgliteDir) {
    log.info(
      { dir: pgliteDir },
      creating
        ? `creating the embedded database (PGlite) under ${pgliteDir}: the first start takes a few seconds …`
        : `opening the embedded database (PGlite) under ${pgliteDir} …`,
    );
  } else log.info('database: PostgreSQL (DATABASE_URL)');
  const handle = await openDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { pgliteDir, command },
  );
  if (pgliteDir) {
    const ms = Date.now() - started;
    log.info({ ms }, `embedded database ${creating ? 'created' : 'opened'} (${humanDuration(ms)})`);
  }
  started = Date.now();
  log.info('migrating the database …');
  try {
    await handle.migrate();
  } catch (error) {
    await handle.close();
    throw error;
  }
  const ms = Date.now() - started;
  log.info({ engine: handle.engine, ms }, `database migrated (${humanDuration(ms)})`);
  return handle;
}

export function serviceContext(
  config: Readonly<Config>,
  database: DatabaseHandle,
  ca: CertificateAuthority,
  log: Logger,
): ServiceContext {
  return {
    db: database.db,
    ca,
    log,
    now: () => new Date(),
    randomBytes,
    minRsaBits: config.csrMinRsaBits,
    crlDistributionPoint: `${config.publicUrl}/crl`,
  };
}

export interface ServiceOptions {
  /** Test and benchmark hooks for the GitHub App (an Octokit without throttling, a stand-in API). */
  github?: GitHubAppOptions;
  /** The length of a day of reminder_days/expire_days (shortened in tests). */
  dayMs?: number;
}

/**
 * The composition root: configuration in, a running service out. WORKERS decides what runs:
 * `web` (HTTP and webhooks, which only enqueue), `worker` (the queue workers, no HTTP), or
 * `all` (both in one process).
 */
export async function startService(
  config: Readonly<Config>,
  log: Logger,
  options: ServiceOptions = {},
): Promise<RunningService> {
  // The database first: a second process on the embedded one is refused before it does anything.
  const database = await openConfiguredDatabase(
    config,
    log,
    config.workers === 'worker' ? 'ons-certs worker' : 'ons-certs serve',
  );
  let ca: CertificateAuthority;
  let redis: Awaited<ReturnType<typeof ensureRedis>>;
  try {
    ca = await openCertificateAuthority(config, log);
    redis = await ensureRedis(config.redisUrl, config.dataDir, log);
  } catch (error) {
    await database.close();
    throw error;
  }
  const connection = redisConnection(redis.url);
  connection.on('error', (error) => log.warn({ err: error }, 'Redis does not answer; reconnecting'));
  const queues = openQueues(connection, config.queuePrefix, (error) =>
    log.warn({ err: error }, 'queue error (is Redis answering?)'),
  );
  const metrics = createMetrics({ queues, services: { db: database.db } });
  const crl = createCrlPublisher({
    db: database.db,
    ca,
    log,
    now: () => new Date(),
    validityHours: config.crlValidityHours,
    onFailure: () => metrics.crlFailures.inc(),
  });
  const services: ServiceContext = {
    ...serviceContext(config, database, ca, log),
    notifier: createMailNotifier({ db: database.db, queues, log, publicUrl: config.publicUrl }),
    crlRefresher: createCrlRefresher({ queues, log, publishNow: () => crl.publish() }),
  };
  const github = createGitHubApp(config, log, options.github);
  const dayMs = options.dayMs ?? DAY_MS;

  const workers =
    config.workers === 'web'
      ? undefined
      : startWorkers({
          services,
          queues,
          log,
          redisUrl: redis.url,
          prefix: config.queuePrefix,
          publicUrl: config.publicUrl,
          dayMs,
          github: github && {
            appId: github.appId,
            octokitFor: (installationId) => github.probot.auth(installationId),
            onRateLimited: (limit) => metrics.githubRateLimited.inc({ limit }),
          },
          mailer: createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom }, log),
          reminderDays: config.reminderDays,
          expiryScanAt: config.expiryScanAt,
          crl: { publish: () => crl.publish(), validityHours: config.crlValidityHours },
          observeSigning: (seconds) => metrics.signingSeconds.observe({ origin: 'approval' }, seconds),
        });
  const closeBackends = async () => {
    await workers?.close();
    await database.close();
    await queues.close();
    await redis.stop();
  };
  if (config.workers === 'worker') {
    log.info('ons-certs workers are running (WORKERS=worker: no HTTP)');
    return { url: '', close: closeBackends };
  }

  // A connection of its own for the sign-in throttle: it fails at once while Redis is away (the
  // throttle then counts in memory), where the queues' connection waits for Redis to come back.
  const throttleRedis = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  throttleRedis.on('error', () => undefined); // the queues' connection logs Redis being away
  const authThrottle = createAuthThrottle({
    redis: throttleRedis,
    prefix: config.queuePrefix,
    log,
    onFailure: (kind) => metrics.authFailures.inc({ kind }),
    onThrottled: (kind) => metrics.authThrottled.inc({ kind }),
  });
  const webhooks = await webhookRoute(
    github && {
      probot: github.probot,
      log: log.child({ component: 'webhooks' }),
      appFn: botApp({
        services,
        queues,
        log,
        publicUrl: config.publicUrl,
        dayMs,
        countDelivery: (event, outcome) => metrics.webhookDeliveries.inc({ event, outcome }),
      }),
    },
  );
  const app = createHttpApp({
    ca,
    log,
    services,
    adminToken: config.adminToken,
    queues,
    metrics,
    webhooks,
    crl: crlRoutes({ crl, log }),
    authThrottle,
    pages: pageRoutes({
      services,
      log,
      publicUrl: config.publicUrl,
      supportRepo: config.supportRepo,
      github: config.github,
      authThrottle,
      reminderDays: config.reminderDays,
    }),
    health: {
      database: () => database.ping(),
      redis: async () => {
        await connection.ping();
      },
    },
  });
  if (!config.adminToken) log.warn('ADMIN_TOKEN is not set: the admin API is off');
  // RENEW_PORT: EST re-enrolment over mTLS (src/est/); off when unset.
  const renewal = await startRenewalListener(config, services, log).catch(async (error: unknown) => {
    throttleRedis.disconnect();
    await closeBackends();
    throw error;
  });
  const server: Server = app.listen(config.port, config.host);
  answerClientErrors(server);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info(
    {
      url,
      publicUrl: config.publicUrl,
      workers: config.workers,
      ca: ca.certificate.subject.replace(/\n/g, ', '),
    },
    'ons-certs is listening',
  );
  return {
    url,
    renewalPort: renewal?.port,
    async close() {
      server.closeIdleConnections();
      await Promise.all([
        new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
        renewal?.close(),
      ]);
      throttleRedis.disconnect();
      await closeBackends();
    },
  };
}
