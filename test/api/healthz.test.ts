import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService, type RunningService } from '../../src/main.ts';
import { createPostgresDatabase, dropPostgresDatabase } from '../helpers/database.ts';
import { CA_DIR, tempDir } from '../helpers/fixtures.ts';

describe('GET /healthz when the database stops answering', () => {
  let service: RunningService;
  let url: string;

  beforeAll(async () => {
    url = await createPostgresDatabase();
    const config = loadConfig({
      PORT: '0',
      DATA_DIR: await tempDir(),
      DATABASE_URL: url,
      CA_CERT_PATH: join(CA_DIR, 'ca.pem'),
      CA_KEY_PATH: join(CA_DIR, 'ca.key'),
      LOG_LEVEL: 'silent',
      // No workers: their background queries (the start-up expiry scan, the CRL) would race the
      // dropped connections, and postgres.js 3.4.9 throws an uncaught error when a query's
      // buffered write meets a terminated socket (an open upstream defect; see "When something is stuck" in docs/operating.md).
      WORKERS: 'web',
    });
    service = await startService(config, createLogger('silent'));
  });
  afterAll(async () => {
    await service?.close();
    await dropPostgresDatabase(url);
  });

  it('answers 200 while it answers, then 503 naming the database', async () => {
    const healthy = await fetch(`${service.url}/healthz`);
    expect(healthy.status).toBe(200);
    await dropPostgresDatabase(url); // terminates the service's connections and removes the database
    const sick = await fetch(`${service.url}/healthz`);
    expect(sick.status).toBe(503);
    expect(await sick.json()).toEqual({
      status: 'unavailable',
      database: 'failed',
      redis: 'ok',
      failed: ['database'],
    });
    // The CA keeps answering: it does not need the database.
    expect((await fetch(`${service.url}/ca.pem`)).status).toBe(200);
  });
});
