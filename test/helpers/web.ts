import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { startService, type RunningService } from '../../src/main.ts';
import { createPostgresDatabase, dropPostgresDatabase } from './database.ts';
import { CA_DIR, tempDir } from './fixtures.ts';
import { httpCall } from './http.ts';

export const WEB_ADMIN_TOKEN = 'admin-token-for-web-tests-0123456789';

export interface WebService {
  url: string;
  /** DATABASE_URL of the service's fresh PostgreSQL database. */
  databaseUrl: string;
  service: RunningService;
  /** One JSON API call with a bearer token; a string body is sent as text/plain. */
  api<T = unknown>(
    token: string,
    verb: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: T; text: string }>;
  /** Registers a supplier through the admin API and returns its token. */
  addSupplier(name: string, email?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The service as `npm start` runs it (web only, no GitHub App) on a fresh PostgreSQL database,
 * with the test CA, 2048-bit CSRs allowed for speed, and queues under a prefix of its own.
 */
export async function startWebService(
  env: Record<string, string> = {},
  logger?: Logger,
): Promise<WebService> {
  const databaseUrl = await createPostgresDatabase();
  const redisUrl = process.env['TEST_REDIS_URL'] ?? process.env['REDIS_URL'];
  const config = loadConfig({
    PORT: '0',
    DATA_DIR: await tempDir('ons-certs-web-'),
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: `test-web-${randomUUID()}`,
    CA_CERT_PATH: join(CA_DIR, 'ca.pem'),
    CA_KEY_PATH: join(CA_DIR, 'ca.key'),
    CSR_MIN_RSA_BITS: '2048',
    ADMIN_TOKEN: WEB_ADMIN_TOKEN,
    WORKERS: 'web',
    LOG_LEVEL: 'silent',
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    ...env,
  });
  const level = (process.env['TEST_LOG_LEVEL'] ?? 'silent') as Parameters<typeof createLogger>[0];
  let service: RunningService;
  try {
    service = await startService(config, logger ?? createLogger(level));
  } catch (error) {
    await dropPostgresDatabase(databaseUrl);
    throw error;
  }
  const url = service.url;
  const api: WebService['api'] = async (token, verb, path, body) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const { status, json, text } = await httpCall<any>(`${url}${path}`, verb, token, body);
    return { status, json, text };
  };
  return {
    url,
    databaseUrl,
    service,
    api,
    async addSupplier(name, email = 'pki@example.com') {
      const reply = await api<{ token: string }>(WEB_ADMIN_TOKEN, 'POST', '/api/admin/suppliers', {
        name,
        email,
      });
      if (reply.status !== 201) throw new Error(`could not add supplier ${name}: ${reply.text}`);
      return reply.json.token;
    },
    async close() {
      await service.close();
      await dropPostgresDatabase(databaseUrl);
    },
  };
}
