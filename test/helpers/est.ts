import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { count } from 'drizzle-orm';
import { loadConfig } from '../../src/config.ts';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import { auditLog, certificateRequests, certificates } from '../../src/db/schema.ts';
import { startService, type RunningService } from '../../src/main.ts';
import { approveRequest } from '../../src/services/decide-request.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import type { EnvironmentView } from '../../src/services/environments.ts';
import { createPostgresDatabase, dropPostgresDatabase } from './database.ts';
import { captureLog, type CapturedLog } from './log-capture.ts';
import { CA_DIR, openssl, tempDir } from './fixtures.ts';
import { CA_PEM, SERVER_CERT, SERVER_KEY } from './gateway.ts';
import { PageClient } from './web-client.ts';
import { makeCsr, testContext } from './services.ts';
import { httpCall } from './http.ts';

const ADMIN_TOKEN = 'admin-token-for-est-tests-0123456789';
export const CONNECTOR = 'hr_integration';
export const VERSION = '1.0';
const VERSION_PATH = `/api/connectors/${CONNECTOR}/versions/${VERSION}`;

/** A client certificate on disk with its key, for curl. */
export interface Holder {
  serial: string;
  commonName: string;
  certPath: string;
  keyPath: string;
}

/**
 * The whole service on a fresh PostgreSQL database with its renewal listener on (RENEW_PORT=0,
 * the test CA's localhost server certificate), a supplier with connector hr_integration 1.0
 * (approved), and a database handle of the test's own for setting up and looking.
 */
export interface EstWorld {
  service: RunningService;
  /** The renewal listener's port. */
  port: number;
  db: DatabaseHandle;
  /** The service's log (debug level), to check what reaches it. */
  log: CapturedLog;
  /** A service context on `db` (real clock, 2048-bit keys allowed as in the service). */
  ctx: ServiceContext;
  /** Adds a line (development TE1002, staging TE…, production CF…). */
  addLine(customerCode: string): Promise<void>;
  /** Uploads a fresh CSR on a line through the API; staging/production are approved by an approver. */
  issue(customerCode: string, identification: string): Promise<Holder>;
  /** The line's JSON listing, as the dashboard reads it. */
  environments(): Promise<EnvironmentView[]>;
  setEnabled(serial: string, enabled: boolean): Promise<number>;
  /** The version's certificates tab as the supplier's browser gets it (signed in with its token). */
  tabPage(): Promise<string>;
  /** Rows of certificates, requests and audit entries: "nothing written" is these unchanged. */
  counts(): Promise<{ certificates: number; requests: number; audit: number }>;
  close(): Promise<void>;
}

export async function startEstWorld(): Promise<EstWorld> {
  const databaseUrl = await createPostgresDatabase();
  const env: Record<string, string> = {
    PORT: '0',
    RENEW_PORT: '0',
    RENEW_TLS_CERT_PATH: SERVER_CERT,
    RENEW_TLS_KEY_PATH: SERVER_KEY,
    DATA_DIR: await tempDir('ons-certs-est-'),
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: `test-est-${randomUUID()}`,
    CA_CERT_PATH: CA_PEM,
    CA_KEY_PATH: join(CA_DIR, 'ca.key'),
    CSR_MIN_RSA_BITS: '2048',
    ADMIN_TOKEN,
    ...(process.env['REDIS_URL'] ? { REDIS_URL: process.env['REDIS_URL'] } : {}),
  };
  const log = captureLog('debug');
  const service = await startService(loadConfig(env), log.logger);
  const db = await openDatabase({ url: databaseUrl });
  const ctx = await testContext(db, { minRsaBits: 2048 });
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    let payload: string | undefined;
    if (typeof body === 'string') [payload, headers['content-type']] = [body, 'text/plain'];
    else if (body !== undefined)
      [payload, headers['content-type']] = [JSON.stringify(body), 'application/json'];
    const response = await fetch(`${service.url}${path}`, { method, headers, body: payload });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text && !text.startsWith('-----') ? JSON.parse(text) : text) as Record<string, unknown>;
  };
  const supplier = await call('POST', '/api/admin/suppliers', ADMIN_TOKEN, {
    name: 'Example Software',
    email: 'pki@example.com',
  });
  const token = String(supplier['token']);
  await call('POST', '/api/connectors', token, { technicalName: CONNECTOR, name: 'HR' });
  await call('POST', `/api/connectors/${CONNECTOR}/versions`, token, { version: VERSION });
  await call('POST', `/api/admin/connectors/${CONNECTOR}/versions/${VERSION}/approve`, ADMIN_TOKEN);
  const rows = async (table: typeof certificates | typeof certificateRequests | typeof auditLog) =>
    (await db.db.select({ n: count() }).from(table))[0]!.n;

  return {
    service,
    port: service.renewalPort!,
    db,
    log,
    ctx,
    async addLine(customerCode) {
      await call('POST', `${VERSION_PATH}/environments`, token, { customerCode });
    },
    async issue(customerCode, identification) {
      const commonName = `${CONNECTOR}-${customerCode}-${identification}`;
      const made = await makeCsr(commonName);
      const line = `${VERSION_PATH}/environments/${customerCode}`;
      const uploaded = await call('PUT', `${line}/csr`, token, made.csr);
      let serial = (uploaded['certificate'] as { serial?: string } | undefined)?.serial;
      if (!serial) {
        // Staging/production: the organisation approves it (consent is recorded, it is signed).
        const request = uploaded['request'] as { id: string };
        const approved = await approveRequest(
          ctx,
          { kind: 'approver', login: 'alice', githubId: 42 },
          request.id,
        );
        if (!approved.ok) throw new Error(JSON.stringify(approved.failures));
        serial = approved.value.certificate!.serial;
      }
      const cert = String(await call('GET', `${line}/certificate.pem`, token));
      const certPath = join(await tempDir(), 'client.pem');
      await writeFile(certPath, cert);
      return { serial, commonName, certPath, keyPath: made.keyPath };
    },
    async tabPage() {
      const client = new PageClient(service.url);
      await client.signIn(token);
      const page = await client.get(`/connectors/${CONNECTOR}/versions/${VERSION}`);
      if (page.status !== 200) throw new Error(`the tab answered ${page.status}`);
      return page.html;
    },
    async environments() {
      return (await call('GET', `${VERSION_PATH}/environments`, token)) as unknown as EnvironmentView[];
    },
    async setEnabled(serial, enabled) {
      const body = enabled ? { enabled } : { enabled, reason: 'key leaked in a test' };
      return (await httpCall(`${service.url}/api/certificates/${serial}`, 'PATCH', token, body)).status;
    },
    async counts() {
      return {
        certificates: await rows(certificates),
        requests: await rows(certificateRequests),
        audit: await rows(auditLog),
      };
    },
    async close() {
      await service.close();
      await db.close();
      await dropPostgresDatabase(databaseUrl);
    },
  };
}

/** A CSR file as an EST client sends it: OpenSSL's DER of the PEM CSR, in OpenSSL's base64. */
export async function csrBase64(csrPem: string): Promise<string> {
  const dir = await tempDir('ons-certs-est-csr-');
  const [pem, der, b64] = ['csr.pem', 'csr.der', 'csr.b64'].map((name) => join(dir, name)) as [
    string,
    string,
    string,
  ];
  await writeFile(pem, csrPem);
  for (const args of [
    ['req', '-in', pem, '-outform', 'DER', '-out', der],
    ['base64', '-in', der, '-out', b64],
  ]) {
    const made = await openssl(args);
    if (made.code !== 0) throw new Error(`openssl ${args[0]}: ${made.output}`);
  }
  return b64;
}

export interface EstAnswer {
  /** The HTTP status; 0 when no answer came. */
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: string;
  stderr: string;
}

/**
 * curl as an EST client: `curl --cert --key --cacert ca.pem -H 'Content-Type: application/pkcs10'
 * --data-binary @csr.b64 https://localhost:PORT/.well-known/est/simplereenroll`.
 */
export async function estCurl(
  port: number,
  path: string,
  options: { client?: { certPath: string; keyPath: string }; body?: string; extra?: string[] } = {},
): Promise<EstAnswer> {
  const dir = await tempDir('ons-certs-est-curl-');
  const headersPath = join(dir, 'headers');
  const args = [
    '-sS',
    '--max-time',
    '20',
    '--cacert',
    CA_PEM,
    ...(options.client ? ['--cert', options.client.certPath, '--key', options.client.keyPath] : []),
    ...(options.body ? ['-H', 'Content-Type: application/pkcs10', '--data-binary', `@${options.body}`] : []),
    ...(options.extra ?? []),
    '-D',
    headersPath,
    '-w',
    '\n%{http_code}',
    `https://localhost:${port}${path}`,
  ];
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
    execFile('curl', args, { encoding: 'utf8' }, (error, out, err) =>
      error && typeof error.code !== 'number' ? reject(error) : resolve({ stdout: out, stderr: err }),
    ),
  );
  const cut = stdout.lastIndexOf('\n');
  const rawHeaders = await readFile(headersPath, 'utf8').catch(() => '');
  const headers: Record<string, string> = {};
  for (const line of rawHeaders.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(stdout.slice(cut + 1)) || 0, headers, body: stdout.slice(0, cut), stderr };
}

/** `base64 -d | openssl pkcs7 -inform DER -print_certs`: the PEM certificates of an EST answer. */
export async function printCerts(body: string): Promise<{ code: number; output: string }> {
  const dir = await tempDir('ons-certs-est-p7-');
  const b64 = join(dir, 'answer.b64');
  await writeFile(b64, body);
  return new Promise((resolve, reject) =>
    execFile(
      'sh',
      ['-c', 'base64 -d "$1" | openssl pkcs7 -inform DER -print_certs', 'sh', b64],
      { encoding: 'utf8' },
      (error, stdout, stderr) =>
        error && typeof error.code !== 'number'
          ? reject(error)
          : resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: stdout + stderr }),
    ),
  );
}
