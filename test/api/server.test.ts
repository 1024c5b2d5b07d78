import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService, type RunningService } from '../../src/main.ts';
import { CA_DIR, tempDir } from '../helpers/fixtures.ts';

const TEST_CA = join(CA_DIR, 'ca.pem');

describe('the HTTP service with a configured CA', () => {
  let service: RunningService;

  beforeAll(async () => {
    const config = loadConfig({
      PORT: '0',
      DATA_DIR: await tempDir(),
      CA_CERT_PATH: TEST_CA,
      CA_KEY_PATH: join(CA_DIR, 'ca.key'),
      LOG_LEVEL: 'silent',
    });
    service = await startService(config, createLogger('silent'));
  });
  afterAll(async () => {
    await service?.close();
  });

  it('listens on 127.0.0.1 at the port the system chose', () => {
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(service.url).not.toMatch(/:0$/);
  });

  it('answers GET /healthz with 200 and the state of the database', async () => {
    const response = await fetch(`${service.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toStrictEqual({ status: 'ok', database: 'ok', redis: 'ok' });
  });

  it('serves the configured CA certificate at GET /ca.pem', async () => {
    const response = await fetch(`${service.url}/ca.pem`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
    const body = await response.text();
    expect(body).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    const served = new X509Certificate(body);
    const fixture = new X509Certificate(await readFile(TEST_CA));
    expect(served.fingerprint256).toBe(fixture.fingerprint256);
    expect(served.ca).toBe(true);
  });

  it.each([
    ['GET', '/no/such/path'],
    ['GET', '/ca.pem/extra'],
    ['POST', '/healthz'],
  ])('answers %s %s with 404 not_found as JSON', async (method, path) => {
    const response = await fetch(`${service.url}${path}`, { method });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toStrictEqual({
      errors: [{ code: 'not_found', message: expect.any(String) }],
    });
  });

  it('says the admin API is off when ADMIN_TOKEN is not set, whatever the token', async () => {
    for (const authorization of [undefined, 'Bearer anything-at-all-0123456789']) {
      const response = await fetch(`${service.url}/api/admin/suppliers`, {
        method: 'POST',
        headers: authorization ? { authorization } : {},
        body: '{"name":"x","email":"x@example.com"}',
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({
        errors: [
          { code: 'admin_api_off', message: 'the admin API is off: start the service with ADMIN_TOKEN set' },
        ],
      });
    }
  });

  it('does not announce Express in x-powered-by', async () => {
    for (const path of ['/healthz', '/ca.pem', '/nothing-here']) {
      const response = await fetch(`${service.url}${path}`);
      await response.arrayBuffer();
      expect(response.headers.has('x-powered-by')).toBe(false);
    }
  });
});

describe('the HTTP service without a configured CA', () => {
  it(
    'makes one development CA when two services start at once on a fresh DATA_DIR',
    { timeout: 60_000 },
    async () => {
      const dataDir = await tempDir();
      const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
      const started = await Promise.allSettled([
        startService(config, createLogger('silent')),
        startService(config, createLogger('silent')),
      ]);
      const services = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      try {
        expect(started.filter((s) => s.status === 'rejected')).toEqual([]);
        const [first, second] = await Promise.all(
          services.map(async (service) => {
            const response = await fetch(`${service.url}/ca.pem`);
            expect(response.status).toBe(200);
            return new X509Certificate(await response.text());
          }),
        );
        const onDisk = new X509Certificate(await readFile(join(dataDir, 'ca', 'ca.pem')));
        expect(first?.fingerprint256).toBe(onDisk.fingerprint256);
        expect(second?.fingerprint256).toBe(onDisk.fingerprint256);
        expect(onDisk.ca).toBe(true);
        expect((await stat(join(dataDir, 'ca', 'ca.key'))).mode & 0o777).toBe(0o600);
      } finally {
        await Promise.all(services.map((service) => service.close()));
      }
    },
  );
});
