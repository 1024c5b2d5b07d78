import { createHash, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService, type RunningService } from '../../src/main.ts';
import { createPostgresDatabase, dropPostgresDatabase } from '../helpers/database.ts';
import { CA_DIR, tempDir } from '../helpers/fixtures.ts';
import { makeCsr, makeCsrForKey } from '../helpers/services.ts';
import { httpCall } from '../helpers/http.ts';

const ADMIN = 'admin-token-for-tests-0123456789';
const LINES = '/api/connectors/hr_integration/versions/1.0/environments';

type Certificate = { serial: string; fingerprintSha256: string; enabled: boolean };
type Line = {
  customerCode: string;
  kind: string;
  request?: { id: string; state: string };
  certificate?: Certificate;
};

/** One JSON (or text/plain for strings) call with the supplier's or admin's token. */
async function call<T>(base: string, verb: string, path: string, token: string, body?: unknown) {
  return httpCall<T>(`${base}${path}`, verb, token, body);
}

describe.each(['pglite', 'postgres'] as const)(
  'stopping the service between upload and download (%s)',
  (engine) => {
    let databaseUrl: string | undefined;
    let env: Record<string, string>;
    let running: RunningService | undefined;

    const start = async () => {
      running = await startService(loadConfig(env), createLogger('silent'));
      return running.url;
    };
    const stop = async () => {
      const service = running;
      running = undefined;
      await service?.close();
    };

    beforeAll(async () => {
      if (engine === 'postgres') databaseUrl = await createPostgresDatabase();
      env = {
        PORT: '0',
        DATA_DIR: await tempDir(),
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        CA_CERT_PATH: join(CA_DIR, 'ca.pem'),
        CA_KEY_PATH: join(CA_DIR, 'ca.key'),
        ADMIN_TOKEN: ADMIN,
        CSR_MIN_RSA_BITS: '2048',
        LOG_LEVEL: 'silent',
      };
    });

    afterAll(async () => {
      await stop();
      if (databaseUrl) await dropPostgresDatabase(databaseUrl);
    });

    it('keeps the supplier, its token, the request and the certificate across a restart', async () => {
      let base = await start();
      const supplier = await call<{ token: string }>(base, 'POST', '/api/admin/suppliers', ADMIN, {
        name: 'Example Software B.V.',
        email: 'pki@example.com',
      });
      expect(supplier.status).toBe(201);
      const { token } = supplier.json;
      const setup: [string, unknown][] = [
        ['/api/connectors', { technicalName: 'hr_integration', name: 'HR integration' }],
        ['/api/connectors/hr_integration/versions', { version: '1.0' }],
        [LINES, { customerCode: 'TE1002' }],
      ];
      for (const [path, body] of setup)
        expect((await call(base, 'POST', path, token, body)).status).toBe(201);
      const made = await makeCsr('hr_integration-TE1002-restart');
      type Upload = { request: { id: string; state: string }; certificate: Certificate };
      const upload = await call<Upload>(base, 'PUT', `${LINES}/TE1002/csr`, token, made.csr);
      expect(upload.status).toBe(201);
      expect(upload.json.request.state).toBe('signed');
      const { request, certificate } = upload.json;
      const before = await call<Line[]>(base, 'GET', LINES, token);
      const pemBefore = await call(base, 'GET', `${LINES}/TE1002/certificate.pem`, token);
      expect(pemBefore.status).toBe(200);

      await stop();
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
      base = await start();

      const connectors = await call(base, 'GET', '/api/connectors', token);
      expect(connectors.status).toBe(200);
      expect(connectors.json).toEqual([
        {
          technicalName: 'hr_integration',
          name: 'HR integration',
          versions: [{ version: '1.0', state: 'editable' }],
        },
      ]);

      const pem = await call(base, 'GET', `${LINES}/TE1002/certificate.pem`, token);
      expect(pem.status).toBe(200);
      expect(pem.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
      expect(pem.text).toBe(pemBefore.text);
      const x509 = new X509Certificate(pem.text);
      expect(createHash('sha256').update(x509.raw).digest('hex')).toBe(certificate.fingerprintSha256);
      expect(BigInt(`0x${x509.serialNumber}`)).toBe(BigInt(`0x${certificate.serial}`));

      const after = await call<Line[]>(base, 'GET', LINES, token);
      expect(after.status).toBe(200);
      expect(after.json).toEqual(before.json);
      expect(after.json).toMatchObject([
        {
          customerCode: 'TE1002',
          kind: 'development',
          request: { id: request.id, state: 'signed' },
          certificate: { serial: certificate.serial, enabled: true },
        },
      ]);

      // The key history survived too: the same key again is refused.
      const again = await makeCsrForKey('hr_integration-TE1002-restart', made.keyPath);
      const reused = await call<{ errors: { code: string }[] }>(
        base,
        'PUT',
        `${LINES}/TE1002/csr`,
        token,
        again,
      );
      expect(reused.status).toBe(422);
      expect(reused.json.errors.map((e) => e.code)).toEqual(['key_reused']);
    });
  },
);
