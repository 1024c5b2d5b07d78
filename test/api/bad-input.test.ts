import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService, type RunningService } from '../../src/main.ts';
import { createPostgresDatabase, dropPostgresDatabase } from '../helpers/database.ts';
import { CA_DIR, readCsr, tempDir } from '../helpers/fixtures.ts';
import { makeCsr } from '../helpers/services.ts';
import { httpCall } from '../helpers/http.ts';

const ADMIN = 'admin-token-for-tests-0123456789';
const LINES = '/api/connectors/hr_integration/versions/1.0/environments';
const CSR = `${LINES}/TE1002/csr`;
const SQL = "x'; drop table suppliers; --";

type Reply<T> = { status: number; headers: Headers; text: string; json: T };
type Supplier = { id: string; name: string; email: string; token: string };
const fixture = async (name: string) => (await readCsr(name)).toString();

let base = '';
/** One HTTP call: a string body is sent as `type`, anything else as JSON; paths may be absolute URLs. */
async function call<T>(verb: string, path: string, token?: string, body?: unknown, type = 'text/plain') {
  const url = path.startsWith('http') ? path : `${base}${path}`;
  return (await httpCall<T>(url, verb, token, body, type)) satisfies Reply<T>;
}
const codes = (reply: Reply<unknown>) =>
  ((reply.json as { errors?: { code: string }[] } | undefined)?.errors ?? []).map((error) => error.code);
/** A JSON object padded with a `pad` member to exactly `size` bytes. */
const padded = (value: object, size: number) => {
  const bare = JSON.stringify({ ...value, pad: '' }).length;
  return JSON.stringify({ ...value, pad: 'x'.repeat(size - bare) });
};

describe('what the API answers to bad input (PostgreSQL)', () => {
  let databaseUrl = '';
  const services: RunningService[] = [];
  let strict = ''; // a second service on the same database, CSR_MIN_RSA_BITS=4096, for the fixtures
  let owner: Supplier;
  let other: Supplier;
  let serial = '';

  beforeAll(async () => {
    databaseUrl = await createPostgresDatabase();
    for (const bits of ['2048', '4096']) {
      const config = loadConfig({
        ...{ PORT: '0', DATA_DIR: await tempDir(), DATABASE_URL: databaseUrl, ADMIN_TOKEN: ADMIN },
        ...{ CA_CERT_PATH: join(CA_DIR, 'ca.pem'), CA_KEY_PATH: join(CA_DIR, 'ca.key') },
        ...{ CSR_MIN_RSA_BITS: bits, LOG_LEVEL: 'silent' },
      });
      services.push(await startService(config, createLogger('silent')));
    }
    [base, strict] = [services[0]!.url, services[1]!.url];
    const supplier = async (name: string, email: string) =>
      (await call<Supplier>('POST', '/api/admin/suppliers', ADMIN, { name, email })).json;
    owner = await supplier('Owner Software B.V.', 'owner@example.com');
    other = await supplier('Other Software B.V.', 'other@example.com');
    const steps: [string, unknown][] = [
      ['/api/connectors', { technicalName: 'hr_integration', name: 'HR integration' }],
      ['/api/connectors/hr_integration/versions', { version: '1.0' }],
      [LINES, { customerCode: 'TE1002' }],
    ];
    for (const [path, body] of steps) expect((await call('POST', path, owner.token, body)).status).toBe(201);
    const made = await makeCsr('hr_integration-TE1002-owned');
    const upload = await call<{ certificate: { serial: string } }>('PUT', CSR, owner.token, made.csr);
    expect(upload.status).toBe(201);
    serial = upload.json.certificate.serial;
  });

  afterAll(async () => {
    for (const service of services) await service.close();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  });

  describe('tokens', () => {
    it.each([
      ['GET', '/api/connectors'],
      ['POST', '/api/admin/suppliers'],
      ['PUT', CSR],
      ['GET', '/api/admin/requests'],
    ])('%s %s without a token or with a wrong one: 401 with WWW-Authenticate', async (verb, path) => {
      for (const token of [undefined, 'not-a-token-anyone-was-given']) {
        const reply = await call(verb, path, token);
        expect(reply.status).toBe(401);
        expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer /);
        expect(codes(reply)).toEqual(['unauthorized']);
      }
    });

    it.each([
      ['POST', '/api/admin/suppliers', { name: 'Sneaky', email: 'sneaky@example.com' }],
      ['POST', '/api/admin/connectors/hr_integration/versions/1.0/approve', {}],
      ['GET', '/api/admin/requests?state=awaiting_approval', undefined],
    ])("a supplier's token on %s %s: 403", async (verb, path, body) => {
      const reply = await call(verb, path, owner.token, body);
      expect([reply.status, codes(reply)]).toEqual([403, ['forbidden']]);
      const listed = await call('GET', '/api/connectors', owner.token);
      expect(listed.json).toMatchObject([{ versions: [{ version: '1.0', state: 'editable' }] }]);
    });
  });

  describe('validation', () => {
    it.each([
      ['TE12', 'invalid_customer_code'],
      ['CF1234', 'version_not_approved'],
      [' te1002 ', 'environment_exists'],
    ])('POST environments {customerCode: %j}: 422 %s', async (customerCode, code) => {
      const reply = await call('POST', LINES, owner.token, { customerCode });
      expect([reply.status, codes(reply)]).toEqual([422, [code]]);
    });

    it.each(['', 'waiting', 'AWAITING_APPROVAL', 'new'])(
      'GET /api/admin/requests?state=%j: 422 invalid_state naming every state',
      async (state) => {
        const reply = await call('GET', `/api/admin/requests?state=${encodeURIComponent(state)}`, ADMIN);
        expect([reply.status, reply.json]).toEqual([
          422,
          {
            errors: [
              {
                code: 'invalid_state',
                message:
                  'state must be one of awaiting_approval, approved, signed, rejected, expired, invalid, superseded',
              },
            ],
          },
        ]);
      },
    );

    it('GET /api/admin/requests?state=signed lists the signed requests', async () => {
      const reply = await call<{ state: string }[]>('GET', '/api/admin/requests?state=signed', ADMIN);
      expect(reply.status).toBe(200);
      expect(reply.json.length).toBeGreaterThan(0);
      expect(new Set(reply.json.map((request) => request.state))).toEqual(new Set(['signed']));
    });

    it('an environment of a version that does not exist: 404 not_found', async () => {
      const reply = await call('POST', LINES.replace('1.0', '9.9'), owner.token, { customerCode: 'TE1002' });
      expect([reply.status, codes(reply)]).toEqual([404, ['not_found']]);
    });

    it.each(['TE9999', 'CF0001', 'nonsense'])('customer code %s not on the version: 404', async (code) => {
      const made = await makeCsr(`hr_integration-${code}-x`);
      const upload = await call('PUT', `${LINES}/${code}/csr`, owner.token, made.csr);
      const download = await call('GET', `${LINES}/${code}/certificate.pem`, owner.token);
      expect([upload.status, codes(upload)]).toEqual([404, ['not_found']]);
      expect([download.status, codes(download)]).toEqual([404, ['not_found']]);
    });

    it('a technicalName that is not [a-z0-9_]+: 422 invalid_technical_name', async () => {
      const body = { technicalName: 'Bad-Name', name: 'Bad name' };
      const reply = await call('POST', '/api/connectors', owner.token, body);
      expect([reply.status, codes(reply)]).toEqual([422, ['invalid_technical_name']]);
    });

    it('a body that is not PEM: 422 malformed_csr', async () => {
      const reply = await call('PUT', CSR, owner.token, 'hello, this is not a certificate request');
      expect([reply.status, codes(reply)]).toEqual([422, ['malformed_csr']]);
    });
  });

  describe('CSR violations (fixtures, CSR_MIN_RSA_BITS=4096)', () => {
    it.each([
      ['garbage.csr', 'malformed_csr'],
      ['two-csrs.csr', 'malformed_csr'],
      ['private-key-included.csr', 'malformed_csr'],
      ['tampered-signature.csr', 'signature_invalid'],
      ['sha1-signed.csr', 'weak_signature_hash'],
      ['ec-key.csr', 'key_type_unsupported'],
      ['key-2048.csr', 'key_too_small'],
      ['exponent-3.csr', 'key_exponent'],
      ['missing-several.csr', 'subject_missing_field'],
      ['bad-country.csr', 'subject_invalid_field'],
      ['duplicate-ou.csr', 'subject_invalid_field'],
      ['cn-dash.csr', 'cn_format'],
      ['cn-other-connector.csr', 'cn_connector_mismatch'],
      ['cn-other-customer-code.csr', 'cn_customer_code_mismatch'],
      ['ca-requested.csr', 'ca_requested'],
    ])('%s: 422 with only %s', async (file, code) => {
      const reply = await call('PUT', `${strict}${CSR}`, owner.token, await fixture(file));
      expect([reply.status, codes(reply)]).toEqual([422, [code]]);
    });

    it('many-violations.csr: every violation in one 422, and the tab shows them by the old certificate', async () => {
      const reply = await call('PUT', `${strict}${CSR}`, owner.token, await fixture('many-violations.csr'));
      expect(reply.status).toBe(422);
      const expected = ['key_too_small', 'key_exponent', 'weak_signature_hash', 'subject_missing_field'];
      expect(codes(reply).sort()).toEqual([...expected, 'subject_invalid_field', 'cn_format'].sort());
      const [line] = (await call<{ request: { errors: unknown[] } }[]>('GET', LINES, owner.token)).json;
      expect(line).toMatchObject({ request: { state: 'invalid' }, certificate: { serial, enabled: true } });
      expect(line!.request.errors).toHaveLength(6);
    });
  });

  describe("another supplier's connector", () => {
    const ghost = 'ghost_connector';
    const routes: [string, string, unknown][] = [
      ['POST', '/api/connectors/hr_integration/versions', { version: '2.0' }],
      ['GET', LINES, undefined],
      ['POST', LINES, { customerCode: 'TE1003' }],
      ['PUT', CSR, 'CSR'],
      ['GET', `${LINES}/TE1002/certificate.pem`, undefined],
      ['PATCH', '/api/certificates/SERIAL', { enabled: false, reason: 'not mine' }],
    ];
    it.each(routes)('%s %s: 404 as if it did not exist, naming no owner', async (verb, path, body) => {
      const csr = body === 'CSR' ? (await makeCsr('hr_integration-TE1002-intruder')).csr : body;
      const fake = randomBytes(16).toString('hex');
      const mine = await call(verb, path.replace('SERIAL', serial), other.token, csr);
      const ghostPath = path.replace('SERIAL', fake).replace('hr_integration', ghost);
      const none = await call(verb, ghostPath, other.token, csr);
      expect([mine.status, codes(mine)]).toEqual([404, ['not_found']]);
      for (const secret of [owner.id, owner.name, owner.email]) expect(mine.text).not.toContain(secret);
      expect(mine.text.replace(serial, fake)).toBe(none.text.replace(ghost, 'hr_integration'));
    });

    it("changed nothing of the owner's, and lists nothing of it", async () => {
      expect((await call('GET', '/api/connectors', other.token)).json).toEqual([]);
      const listed = await call('GET', '/api/connectors', owner.token);
      const own = { technicalName: 'hr_integration', versions: [{ version: '1.0' }] };
      expect(listed.json).toMatchObject([own]);
      const lines = (await call<unknown[]>('GET', LINES, owner.token)).json;
      expect(lines).toEqual([expect.objectContaining({ customerCode: 'TE1002' })]);
      expect(lines[0]).toMatchObject({ certificate: { serial, enabled: true } });
    });
  });

  describe('body size: at most 64 KiB as sent', () => {
    const targets: [string, string, 'owner' | 'admin', object][] = [
      ['PUT', CSR, 'owner', {}],
      ['POST', '/api/connectors', 'owner', { technicalName: 'big_body', name: 'Big body' }],
      ['POST', '/api/admin/suppliers', 'admin', { name: 'Big body B.V.', email: 'big@example.com' }],
    ];
    it.each(targets)('%s %s: 413 with 65 KiB, not with 64 KiB', async (verb, path, who, value) => {
      const token = who === 'admin' ? ADMIN : owner.token;
      const body = (size: number) => (verb === 'PUT' ? 'A'.repeat(size) : padded(value, size));
      const type = verb === 'PUT' ? 'text/plain' : 'application/json';
      const big = await call(verb, path, token, body(65 * 1024), type);
      expect(big.status).toBe(413);
      expect(big.json).toStrictEqual({ errors: [{ code: 'body_too_large', message: expect.any(String) }] });
      const fits = await call(verb, path, token, body(64 * 1024), type);
      expect(fits.status).toBe(verb === 'PUT' ? 422 : 201);
      if (verb === 'PUT') expect(codes(fits)).toEqual(['malformed_csr']);
    });

    it('the 80 KiB oversized.csr fixture: 413', async () => {
      const reply = await call('PUT', CSR, owner.token, await fixture('oversized.csr'));
      expect([reply.status, codes(reply)]).toEqual([413, ['body_too_large']]);
    });
  });

  it('registers GitHub logins, managed users (login_shortcode) too, and refuses what is not a login', async () => {
    const good = { name: 'Logins B.V.', email: 'logins@example.com', githubLogins: ['Dev-1', 'ops_acme'] };
    const created = await call<Supplier & { githubLogins: string[] }>(
      'POST',
      '/api/admin/suppliers',
      ADMIN,
      good,
    );
    expect([created.status, created.json.githubLogins]).toEqual([201, ['dev-1', 'ops_acme']]);
    for (const login of ['-dev', 'a_b_c', 'dev@example.com', 'a'.repeat(40), '@dev']) {
      const refused = await call('POST', '/api/admin/suppliers', ADMIN, {
        name: `Refused ${login}`,
        email: 'refused@example.com',
        githubLogins: [login],
      });
      expect({ login, status: refused.status, codes: codes(refused) }).toEqual({
        login,
        status: 422,
        codes: ['invalid_input'],
      });
    }
  });

  it('stores SQL-looking names verbatim and keeps working', async () => {
    const probe = { name: SQL, email: 'sql@example.com' };
    const created = await call<Supplier>('POST', '/api/admin/suppliers', ADMIN, probe);
    expect([created.status, created.json.name]).toEqual([201, SQL]);
    const { token } = created.json;
    const connector = await call('POST', '/api/connectors', token, { technicalName: 'sql_probe', name: SQL });
    expect([connector.status, connector.json]).toMatchObject([
      201,
      { technicalName: 'sql_probe', name: SQL },
    ]);
    const listed = await call('GET', '/api/connectors', token);
    expect(listed.json).toEqual([{ technicalName: 'sql_probe', name: SQL, versions: [] }]);
    const owned = await call('GET', '/api/connectors', owner.token);
    expect(owned.json).toContainEqual(expect.objectContaining({ technicalName: 'hr_integration' }));
    const after = { name: 'After B.V.', email: 'after@example.com' };
    expect((await call('POST', '/api/admin/suppliers', ADMIN, after)).status).toBe(201);
  });
});
