import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService, type RunningService } from '../../src/main.ts';
import { createPostgresDatabase, dropPostgresDatabase } from './database.ts';
import { CA_DIR, openssl, tempDir } from './fixtures.ts';
import { makeCsr } from './services.ts';
import { httpCall } from './http.ts';

const ADMIN_TOKEN = 'admin-token-for-gateway-tests-0123';
const LINE = '/api/connectors/hr_integration/versions/1.0/environments/TE1002';

/** The test CA: it signs the clients' certificates and the gateway's server certificate (localhost). */
export const CA_PEM = join(CA_DIR, 'ca.pem');
export const SERVER_CERT = join(CA_DIR, 'server.pem');
export const SERVER_KEY = join(CA_DIR, 'server.key');

/** A client certificate the service issued, on disk for curl and openssl. */
export interface Client {
  serial: string;
  commonName: string;
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

/** The whole service (web and workers) on a fresh PostgreSQL database and its own queue prefix. */
export interface CrlWorld {
  service: RunningService;
  databaseUrl: string;
  env: Record<string, string>;
  /** Uploads a new CSR on the TE1002 line; the development certificate is signed at once. */
  issue(identification: string): Promise<Client>;
  /** PATCH /api/certificates/{serial} as the supplier; resolves with the HTTP status. */
  setEnabled(serial: string, enabled: boolean): Promise<number>;
  close(): Promise<void>;
}

export async function startCrlWorld(env: Record<string, string> = {}): Promise<CrlWorld> {
  const databaseUrl = await createPostgresDatabase();
  const fullEnv: Record<string, string> = {
    PORT: '0',
    DATA_DIR: await tempDir('ons-certs-gateway-'),
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: `test-crl-${randomUUID()}`,
    CA_CERT_PATH: CA_PEM,
    CA_KEY_PATH: join(CA_DIR, 'ca.key'),
    CSR_MIN_RSA_BITS: '2048',
    ADMIN_TOKEN,
    ...(process.env['REDIS_URL'] ? { REDIS_URL: process.env['REDIS_URL'] } : {}),
    ...env,
  };
  const level = (process.env['TEST_LOG_LEVEL'] ?? 'silent') as Parameters<typeof createLogger>[0];
  const service = await startService(loadConfig(fullEnv), createLogger(level));
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    let payload: string | undefined;
    if (typeof body === 'string') [payload, headers['content-type']] = [body, 'text/plain'];
    else if (body !== undefined)
      [payload, headers['content-type']] = [JSON.stringify(body), 'application/json'];
    const response = await fetch(`${service.url}${path}`, { method, headers, body: payload });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as Record<string, unknown>;
  };
  const supplier = await call('POST', '/api/admin/suppliers', ADMIN_TOKEN, {
    name: 'Example Software',
    email: 'pki@example.com',
  });
  const token = String(supplier['token']);
  await call('POST', '/api/connectors', token, { technicalName: 'hr_integration', name: 'HR' });
  await call('POST', '/api/connectors/hr_integration/versions', token, { version: '1.0' });
  await call('POST', '/api/connectors/hr_integration/versions/1.0/environments', token, {
    customerCode: 'TE1002',
  });
  return {
    service,
    databaseUrl,
    env: fullEnv,
    async issue(identification) {
      const commonName = `hr_integration-TE1002-${identification}`;
      const made = await makeCsr(commonName);
      const uploaded = await call('PUT', `${LINE}/csr`, token, made.csr);
      const serial = String((uploaded['certificate'] as { serial: string }).serial);
      const cert = await (
        await fetch(`${service.url}${LINE}/certificate.pem`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).text();
      const certPath = join(await tempDir(), 'client.pem');
      await writeFile(certPath, cert);
      return { serial, commonName, certPath, keyPath: made.keyPath, cert, key: made.key };
    },
    async setEnabled(serial, enabled) {
      const body = enabled ? { enabled } : { enabled, reason: 'key leaked in a test' };
      return (await httpCall(`${service.url}/api/certificates/${serial}`, 'PATCH', token, body)).status;
    },
    async close() {
      await service.close();
      await dropPostgresDatabase(databaseUrl);
    },
  };
}

export interface CurlResult {
  /** curl's exit code: 0 when an HTTP answer came. */
  code: number;
  /** The HTTP status; 0 when there was none (the TLS handshake or connection was refused). */
  status: number;
  body: string;
  stderr: string;
}

/** `curl https://localhost:<port><path>` as an operator would run it, with or without a client certificate. */
export function curl(
  port: number,
  path: string,
  client?: { certPath: string; keyPath: string },
  extra: string[] = [],
) {
  const args = [
    '-sS',
    '--max-time',
    '10',
    '--cacert',
    CA_PEM,
    ...(client ? ['--cert', client.certPath, '--key', client.keyPath] : []),
    ...extra,
    '-w',
    '\n%{http_code}',
    `https://localhost:${port}${path}`,
  ];
  return new Promise<CurlResult>((resolve, reject) => {
    execFile('curl', args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      const cut = stdout.lastIndexOf('\n');
      resolve({
        code: typeof error?.code === 'number' ? error.code : 0,
        status: Number(stdout.slice(cut + 1)) || 0,
        body: stdout.slice(0, cut),
        stderr,
      });
    });
  });
}

/**
 * `openssl s_client` to the gateway with SNI localhost, sending `GET /ping`; `answered` says
 * whether an HTTP answer came back.
 */
export async function sClient(
  port: number,
  args: string[],
): Promise<{ answered: string | undefined; output: string }> {
  const result = await openssl(
    [
      's_client',
      '-connect',
      `localhost:${port}`,
      '-servername',
      'localhost',
      '-CAfile',
      CA_PEM,
      '-verify_return_error',
      '-ign_eof',
      ...args,
    ],
    'GET /ping HTTP/1.0\r\nHost: localhost\r\n\r\n',
  );
  const status = /^HTTP\/1\.1 (\d{3})/m.exec(result.output);
  return { answered: status?.[1], output: result.output };
}

/**
 * One GET /ping over a fresh TLS connection from Node (cheaper than a process, for polling):
 * the HTTP status, or 0 when the gateway refused the client.
 */
export function ping(port: number, client: { cert: string; key: string }, ca: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca,
      cert: client.cert,
      key: client.key,
    });
    let answer = '';
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('secureConnect', () =>
      socket.write('GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
    );
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
  });
}
