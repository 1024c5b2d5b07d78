import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService, type RunningService } from '../../src/main.ts';
import { createPostgresDatabase, dropPostgresDatabase } from '../helpers/database.ts';
import { CA_DIR, tempDir } from '../helpers/fixtures.ts';
import { httpCall } from '../helpers/http.ts';
import { makeCsr } from '../helpers/services.ts';

const ADMIN = 'admin-token-for-tests-0123456789';
const LINES = '/api/connectors/hr_integration/versions/1.0/environments';

type Errors = { errors: { code: string; message: string }[] };
type Supplier = { token: string };

/**
 * Issue 13, item 9: a body that is not JSON (or JSON but not an object) is answered 400
 * `invalid_json` naming the problem, at every route that reads JSON; it used to be read as an
 * object without fields, and answered as if a field were wrong.
 */
describe('a JSON route given a body that is not a JSON object (PostgreSQL)', () => {
  let databaseUrl = '';
  let service: RunningService;
  let token = '';
  let serial = '';
  const call = <T>(verb: string, path: string, who: string, body?: unknown, type = 'application/json') =>
    httpCall<T>(`${service.url}${path}`, verb, who, body, type);

  beforeAll(async () => {
    databaseUrl = await createPostgresDatabase();
    const config = loadConfig({
      ...{ PORT: '0', DATA_DIR: await tempDir(), DATABASE_URL: databaseUrl, ADMIN_TOKEN: ADMIN },
      ...{ CA_CERT_PATH: join(CA_DIR, 'ca.pem'), CA_KEY_PATH: join(CA_DIR, 'ca.key') },
      ...{ CSR_MIN_RSA_BITS: '2048', LOG_LEVEL: 'silent' },
    });
    service = await startService(config, createLogger('silent'));
    const supplier = await call<Supplier>('POST', '/api/admin/suppliers', ADMIN, {
      name: 'Example Software B.V.',
      email: 'pki@example.com',
    });
    token = supplier.json.token;
    const steps: [string, unknown][] = [
      ['/api/connectors', { technicalName: 'hr_integration', name: 'HR integration' }],
      ['/api/connectors/hr_integration/versions', { version: '1.0' }],
      [LINES, { customerCode: 'TE1002' }],
    ];
    for (const [path, body] of steps) expect((await call('POST', path, token, body)).status).toBe(201);
    const upload = await call<{ certificate: { serial: string } }>(
      'PUT',
      `${LINES}/TE1002/csr`,
      token,
      (await makeCsr('hr_integration-TE1002-json')).csr,
      'text/plain',
    );
    expect(upload.status).toBe(201);
    serial = upload.json.certificate.serial;
  });

  afterAll(async () => {
    await service?.close();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  });

  const routes = (): [string, string, string][] => [
    ['POST', '/api/admin/suppliers', ADMIN],
    ['POST', '/api/connectors', token],
    ['POST', '/api/connectors/hr_integration/versions', token],
    ['POST', LINES, token],
    ['PATCH', `/api/certificates/${serial}`, token],
    ['PUT', `${LINES}/TE1002/csr`, token],
  ];

  it.each([
    ['{bad json', "the body is not valid JSON: Expected property name or '}' in JSON at position 1"],
    [
      '{"customerCode": "TE1003",}',
      'the body is not valid JSON: Expected double-quoted property name in JSON at position 26',
    ],
    ['{"customerCode": "TE10', 'the body is not valid JSON: Unterminated string in JSON at position 22'],
    ['{"customerCode": ', 'the body is not valid JSON: Unexpected end of JSON input (it is cut off)'],
    ['{"enabled": tru}', "the body is not valid JSON: Unexpected token '}'"],
    ['   ', 'the body is not valid JSON: Unexpected end of JSON input (it is cut off)'],
  ])('answers %j with 400 invalid_json at every JSON route', async (body, message) => {
    for (const [verb, path, who] of routes()) {
      const reply = await call<Errors>(verb, path, who, body);
      expect(reply.status, `${verb} ${path}`).toBe(400);
      expect(reply.json, `${verb} ${path}`).toEqual({ errors: [{ code: 'invalid_json', message }] });
    }
  });

  it.each(['[{"customerCode": "TE1003"}]', '"TE1003"', '42', 'true', 'null'])(
    'answers valid JSON that is not an object (%s) with 400 invalid_json',
    async (body) => {
      for (const [verb, path, who] of routes()) {
        const reply = await call<Errors>(verb, path, who, body);
        expect(reply.status, `${verb} ${path}`).toBe(400);
        expect(reply.json.errors).toEqual([
          { code: 'invalid_json', message: 'the body must be a JSON object ({"name": value, ...})' },
        ]);
      }
    },
  );

  it('never echoes the body, whatever JSON.parse quotes of it', async () => {
    const secretish = `x${'secret-bytes-'.repeat(200)}`;
    for (const [verb, path, who] of routes()) {
      // A CSR upload sent as text/plain is a PEM file, not JSON: JSON says so by its type.
      const type = verb === 'PUT' ? 'application/json' : 'text/plain';
      const reply = await call<Errors>(verb, path, who, secretish, type);
      expect(reply.status, `${verb} ${path}`).toBe(400);
      expect(reply.json.errors).toEqual([
        { code: 'invalid_json', message: "the body is not valid JSON: Unexpected token 'x'" },
      ]);
      expect(reply.text).not.toContain('secret-bytes');
    }
  });

  it('stores nothing for a broken body, and the fixed body then works', async () => {
    const broken = await call<Errors>('POST', LINES, token, '{"customerCode": "TE1003",}');
    expect(broken.status).toBe(400);
    const lines = await call<{ customerCode: string }[]>('GET', LINES, token);
    expect(lines.json.map((line) => line.customerCode)).toEqual(['TE1002']);
    const approve = '/api/admin/connectors/hr_integration/versions/1.0/approve';
    expect((await call('POST', approve, ADMIN)).status).toBe(200);
    const fixed = await call('POST', LINES, token, '{"customerCode": "TE1003"}');
    expect(fixed.status).toBe(201);
  });

  it('still answers a missing body (no fields) as the fields that are missing', async () => {
    const reply = await call<Errors>('POST', LINES, token);
    expect(reply.status).toBe(422);
    expect(reply.json.errors[0]?.code).not.toBe('invalid_json');
  });
});
