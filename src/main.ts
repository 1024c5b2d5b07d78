import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createHttpApp } from './api/server.ts';
import type { CertificateAuthority } from './ca/certificate-authority.ts';
import { openCertificateAuthority } from './ca/open-ca.ts';
import type { Config } from './config.ts';
import { openDatabase, type DatabaseHandle } from './db/database.ts';
import type { Logger } from './log.ts';
import { openQueues, redisConnection } from './queue/queues.ts';
import { ensureRedis } from './queue/redis-availability.ts';
import type { ServiceContext } from './services/context.ts';

export interface RunningService {
  url: string;
  close(): Promise<void>;
}

/** PostgreSQL when DATABASE_URL is set, else the embedded PGlite under DATA_DIR; migrated. */
export async function openConfiguredDatabase(config: Readonly<Config>, log: Logger): Promise<DatabaseHandle> {
  const handle = await openDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { pgliteDir: join(config.dataDir, 'pglite') },
  );
  try {
    await handle.migrate();
  } catch (error) {
    await handle.close();
    throw error;
  }
  log.info(
    { engine: handle.engine },
    handle.engine === 'postgres' ? 'database: PostgreSQL' : 'database: embedded PGlite',
  );
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

/** The composition root: configuration in, a listening service out. */
export async function startService(config: Readonly<Config>, log: Logger): Promise<RunningService> {
  const ca = await openCertificateAuthority(config, log);
  const redis = await ensureRedis(config.redisUrl, config.dataDir, log);
  const connection = redisConnection(redis.url);
  connection.on('error', (error) => log.warn({ err: error }, 'Redis does not answer; reconnecting'));
  const queues = openQueues(connection, config.queuePrefix, (error) =>
    log.warn({ err: error }, 'queue error (is Redis answering?)'),
  );
  const database = await openConfiguredDatabase(config, log);
  const services = serviceContext(config, database, ca, log);
  const app = createHttpApp({
    ca,
    log,
    services,
    adminToken: config.adminToken,
    health: {
      database: () => database.ping(),
      redis: async () => {
        await connection.ping();
      },
    },
  });
  if (!config.adminToken) log.warn('ADMIN_TOKEN is not set: the admin API is off');
  const server: Server = app.listen(config.port, config.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info(
    { url, publicUrl: config.publicUrl, ca: ca.certificate.subject.replace(/\n/g, ', ') },
    'ons-certs is listening',
  );
  return {
    url,
    async close() {
      server.closeIdleConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
      await database.close();
      await queues.close();
      await redis.stop();
    },
  };
}
