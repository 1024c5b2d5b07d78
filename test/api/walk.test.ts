import { createHash, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import { createLogger } from '../../src/log.ts';
import { startService, type RunningService } from '../../src/main.ts';
import { approveRequest } from '../../src/services/decide-request.ts';
import { createPostgresDatabase, dropPostgresDatabase } from '../helpers/database.ts';
import { CA_DIR, openssl, tempDir } from '../helpers/fixtures.ts';
import { makeCsr, makeCsrForKey, testContext, type MadeCsr } from '../helpers/services.ts';
import { httpCall } from '../helpers/http.ts';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const LINES = '/api/connectors/hr_integration/versions/1.0/environments';
const APPROVE = '/api/admin/connectors/hr_integration/versions/1.0/approve';
const WAITING = '/api/admin/requests?state=awaiting_approval';

type Reply<T> = { status: number; headers: Headers; text: string; json: T };
type Cert = Record<'serial' | 'notBefore' | 'notAfter' | 'fingerprintSha256', string> & { enabled: boolean };
type UploadJson = { request: { id: string; state: string }; certificate?: Cert };
type LineJson = { customerCode: string; kind: string; request?: UploadJson['request']; certificate?: Cert };

let base = '';
/** One HTTP call as a user's script makes it: a string is sent as `type`, anything else as JSON. */
async function call<T>(verb: string, path: string, token?: string, body?: unknown, type = 'text/plain') {
  return (await httpCall<T>(`${base}${path}`, verb, token, body, type)) satisfies Reply<T>;
}

const codes = (reply: Reply<unknown>) =>
  (reply.json as { errors: { code: string }[] }).errors.map((error) => error.code);
const big = (hex: string) => BigInt(`0x${hex}`);
const serialOf = (pem: string) => big(new X509Certificate(pem).serialNumber);

describe('the full walk of a supplier, Nedap support and an approver over HTTP (PostgreSQL)', () => {
  let databaseUrl: string;
  let service: RunningService | undefined;
  let approverHandle: DatabaseHandle | undefined;
  let token = '';
  let devCertificate: Cert;
  let firstStaging: MadeCsr;
  let renewed: MadeCsr;
  let stagingRequestId = '';
  let renewedSerial = '';

  const lineOf = async (code: string) =>
    (await call<LineJson[]>('GET', LINES, token)).json.find((line) => line.customerCode === code);

  beforeAll(async () => {
    databaseUrl = await createPostgresDatabase();
    const config = loadConfig({
      PORT: '0',
      DATA_DIR: await tempDir(),
      DATABASE_URL: databaseUrl,
      CA_CERT_PATH: join(CA_DIR, 'ca.pem'),
      CA_KEY_PATH: join(CA_DIR, 'ca.key'),
      ADMIN_TOKEN,
      CSR_MIN_RSA_BITS: '2048',
      LOG_LEVEL: 'silent',
    });
    service = await startService(config, createLogger('silent'));
    base = service.url;
    approverHandle = await openDatabase({ url: databaseUrl });
  });

  afterAll(async () => {
    await service?.close();
    await approverHandle?.close();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  });

  it('Nedap support registers the supplier and hands out its token', async () => {
    const body = { name: 'Example Software B.V.', email: 'pki@example.com', githubLogins: ['example-dev'] };
    const reply = await call<{ token: string }>('POST', '/api/admin/suppliers', ADMIN_TOKEN, body);
    expect(reply.status).toBe(201);
    expect(reply.json).toStrictEqual({ id: expect.any(String), ...body, token: expect.any(String) });
    token = reply.json.token;
  });

  it('the supplier creates its connector and a version of it', async () => {
    const body = { technicalName: 'hr_integration', name: 'HR integration' };
    const connector = await call('POST', '/api/connectors', token, body);
    expect(connector.status).toBe(201);
    expect(connector.json).toMatchObject(body);
    const version = await call('POST', '/api/connectors/hr_integration/versions', token, { version: '1.0' });
    expect(version.status).toBe(201);
    expect(version.json).toStrictEqual({ version: '1.0', state: 'editable' });
    const listed = await call('GET', '/api/connectors', token);
    expect(listed.json).toMatchObject([{ technicalName: 'hr_integration', versions: [{ version: '1.0' }] }]);
  });

  it('adds the development environment, trimming and upper-casing the code', async () => {
    const reply = await call('POST', LINES, token, { customerCode: ' te1002 ' });
    expect(reply.status).toBe(201);
    expect(reply.json).toMatchObject({ customerCode: 'TE1002', kind: 'development' });
  });

  it('uploads a CSR as text/plain on TE1002 and gets it signed at once', async () => {
    const made = await makeCsr('hr_integration-TE1002-walk_dev');
    const reply = await call<UploadJson>('PUT', `${LINES}/TE1002/csr`, token, made.csr);
    expect(reply.status).toBe(201);
    expect(reply.json).toStrictEqual({
      request: { id: expect.any(String), state: 'signed' },
      certificate: {
        serial: expect.stringMatching(/^[0-9a-f]+$/),
        notBefore: expect.any(String),
        notAfter: expect.any(String),
        enabled: true,
        fingerprintSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    });
    devCertificate = reply.json.certificate!;
  });

  it('downloads the PEM as an attachment named after the CN, and openssl accepts it as a client cert', async () => {
    const reply = await call('GET', `${LINES}/TE1002/certificate.pem`, token);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
    // RFC 6266: the file name may be a token or a quoted string.
    expect(reply.headers.get('content-disposition')).toMatch(
      /^attachment; filename="?hr_integration-TE1002-walk_dev\.pem"?$/,
    );
    const certificate = new X509Certificate(reply.text);
    expect(serialOf(reply.text)).toBe(big(devCertificate.serial));
    expect(createHash('sha256').update(certificate.raw).digest('hex')).toBe(devCertificate.fingerprintSha256);
    expect(certificate.subject).toContain('CN=hr_integration-TE1002-walk_dev');

    const dir = await tempDir();
    const caFile = join(dir, 'ca.pem');
    const certFile = join(dir, 'client.pem');
    await writeFile(caFile, await (await fetch(`${base}/ca.pem`)).text());
    await writeFile(certFile, reply.text);
    const verified = await openssl(['verify', '-purpose', 'sslclient', '-CAfile', caFile, certFile]);
    expect(verified).toMatchObject({ code: 0, output: expect.stringContaining(`${certFile}: OK`) });
  });

  it('refuses a staging environment on the still editable version', async () => {
    const reply = await call('POST', LINES, token, { customerCode: 'TE1234' });
    expect(reply.status).toBe(422);
    expect(codes(reply)).toEqual(['version_not_approved']);
  });

  it('Nedap support approves the version; then TE1234 can be added', async () => {
    const approved = await call('POST', APPROVE, ADMIN_TOKEN);
    expect(approved.status).toBe(200);
    expect(approved.json).toStrictEqual({ version: '1.0', state: 'approved' });
    const added = await call('POST', LINES, token, { customerCode: 'TE1234' });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ customerCode: 'TE1234', kind: 'staging' });
  });

  it('a CSR on TE1234 waits for approval, and Nedap support sees it waiting', async () => {
    firstStaging = await makeCsr('hr_integration-TE1234-walk_stage');
    const reply = await call<UploadJson>('PUT', `${LINES}/te1234/csr`, token, firstStaging.csr);
    expect(reply.status).toBe(201);
    expect(reply.json).toStrictEqual({ request: { id: expect.any(String), state: 'awaiting_approval' } });
    stagingRequestId = reply.json.request.id;
    expect((await call('GET', `${LINES}/TE1234/certificate.pem`, token)).status).toBe(404);

    const waiting = await call('GET', WAITING, ADMIN_TOKEN);
    expect(waiting.status).toBe(200);
    expect(waiting.json).toEqual([
      expect.objectContaining({
        id: stagingRequestId,
        state: 'awaiting_approval',
        technicalName: 'hr_integration',
        version: '1.0',
        customerCode: 'TE1234',
      }),
    ]);
  });

  it("the organisation's approval signs it, and the tab shows the certificate", async () => {
    const ctx = await testContext(approverHandle!, { minRsaBits: 2048 });
    const approver = { kind: 'approver' as const, login: 'alice', githubId: 42 };
    const outcome = await approveRequest(ctx, approver, stagingRequestId);
    expect(outcome).toMatchObject({ ok: true, value: { request: { id: stagingRequestId } } });
    expect(outcome.ok && outcome.value.request.state).toBe('signed');

    expect(await lineOf('TE1234')).toMatchObject({
      kind: 'staging',
      request: { id: stagingRequestId, state: 'signed' },
      certificate: { enabled: true, serial: expect.stringMatching(/^[0-9a-f]+$/) },
    });
    expect((await call('GET', WAITING, ADMIN_TOKEN)).json).toEqual([]);
  });

  it('renewal: a CSR with a new key on TE1234 is signed at once, without a ticket', async () => {
    const before = (await lineOf('TE1234'))!;
    renewed = await makeCsr('hr_integration-TE1234-walk_stage');
    const reply = await call<UploadJson>('PUT', `${LINES}/TE1234/csr`, token, renewed.csr);
    expect(reply.status).toBe(201);
    expect(reply.json).toMatchObject({ request: { state: 'signed' }, certificate: { enabled: true } });
    renewedSerial = reply.json.certificate!.serial;
    expect(renewedSerial).not.toBe(before.certificate!.serial);
    const pem = await call('GET', `${LINES}/TE1234/certificate.pem`, token);
    expect(serialOf(pem.text)).toBe(big(renewedSerial));
  });

  it('the first key again is refused with key_reused', async () => {
    const again = await makeCsrForKey('hr_integration-TE1234-walk_stage', firstStaging.keyPath);
    const reply = await call('PUT', `${LINES}/TE1234/csr`, token, again);
    expect(reply.status).toBe(422);
    expect(codes(reply)).toEqual(['key_reused']);
  });

  it('disables the leaked certificate; the tab shows it disabled', async () => {
    const body = { enabled: false, reason: 'leaked' };
    const reply = await call('PATCH', `/api/certificates/${renewedSerial}`, token, body);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ serial: renewedSerial, enabled: false });
    expect((await lineOf('TE1234'))?.certificate).toMatchObject({ serial: renewedSerial, enabled: false });
  });

  it("the disabled certificate's key again is refused with key_compromised", async () => {
    const again = await makeCsrForKey('hr_integration-TE1234-walk_stage', renewed.keyPath);
    const reply = await call('PUT', `${LINES}/TE1234/csr`, token, again);
    expect(reply.status).toBe(422);
    expect(codes(reply)).toEqual(['key_compromised']);
  });

  it('also takes the CSR as a multipart/form-data file field csr and as application/pkcs10', async () => {
    const multipart = await makeCsr('hr_integration-TE1002-walk_form');
    const form = new FormData();
    form.append('csr', new Blob([multipart.csr], { type: 'application/pkcs10' }), 'client.csr');
    const viaForm = await call<UploadJson>('PUT', `${LINES}/TE1002/csr`, token, form);
    expect(viaForm.status).toBe(201);
    expect(viaForm.json).toMatchObject({ request: { state: 'signed' }, certificate: { enabled: true } });

    const pkcs10 = await makeCsr('hr_integration-TE1002-walk_pkcs10');
    const type = 'application/pkcs10';
    const viaType = await call<UploadJson>('PUT', `${LINES}/TE1002/csr`, token, pkcs10.csr, type);
    expect(viaType.status).toBe(201);
    expect(viaType.json).toMatchObject({ request: { state: 'signed' }, certificate: { enabled: true } });

    const pem = await call('GET', `${LINES}/TE1002/certificate.pem`, token);
    expect(pem.headers.get('content-disposition')).toContain('hr_integration-TE1002-walk_pkcs10.pem');
    expect(serialOf(pem.text)).toBe(big(viaType.json.certificate!.serial));
  });
});
