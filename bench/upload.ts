import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { privateKeyPem } from '../src/ca/certificate-authority.ts';
import { checkAndIssue } from '../src/ca/sign-csr.ts';
import { createPostgresDatabase, dropPostgresDatabase } from '../test/helpers/database.ts';
import { benchCa } from './ca.ts';
import { csrPool } from './csr-pool.ts';
import { percentile, ratioLine, repeatFor, tempDir } from './support.ts';
import { freePort } from '../test/helpers/net.ts';

const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const COMMON_NAME = 'bench_connector-TE1002-upload';
const UPLOADS = 600;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const ROUNDS = 2;
const WARM_UP = 20;

/**
 * CSR uploads per second through the HTTP API on a development line, end to end (HTTP, policy
 * with the database's key history, signing, PostgreSQL), against the CA-only rate of the same
 * CSRs measured in this run. The service runs as its own process, like `npm start`.
 */
export async function runUploadBenchmark(): Promise<string[]> {
  const ca = await benchCa();
  const csrs = await csrPool(COMMON_NAME, UPLOADS);
  const context = { minRsaBits: 2048, connector: 'bench_connector', customerCode: 'TE1002' };
  let i = 0;
  const caOnlyRound = () =>
    repeatFor(3, () => {
      const result = checkAndIssue(csrs[i++ % csrs.length]!, context, ca, { now: new Date(), randomBytes });
      if (!result.ok) throw new Error(JSON.stringify(result.violations));
    });

  const dir = await tempDir();
  await writeFile(join(dir, 'ca.pem'), ca.chainPem);
  await writeFile(join(dir, 'ca.key'), privateKeyPem(ca.privateKey), { mode: 0o600 });
  // Best of alternating rounds, like the CA benchmark: other tenants of the machine slow
  // either side at random. Each upload round gets a fresh database, so the same CSRs serve.
  let caOnly = 0;
  let best: { perSecond: number; latencies: number[] } | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    caOnly = Math.max(caOnly, caOnlyRound());
    const result = await uploadRound(dir, csrs);
    if (!best || result.perSecond > best.perSecond) best = result;
  }
  agent.destroy();
  const { perSecond, latencies } = best!;
  return [
    ratioLine('api.upload', perSecond / caOnly, 0.7, [
      `${perSecond.toFixed(1)} uploads/s through PUT .../csr on a development line (service process using up to 2 cores: ` +
        `signing on the thread pool; PostgreSQL; ${CONCURRENCY} concurrent clients; ${latencies.length} uploads; best of ${ROUNDS} rounds)`,
      `CA-only ${caOnly.toFixed(1)} certificates/s for the same CSRs (1 core, best of ${ROUNDS} rounds)`,
      `latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
    ]),
  ];
}

async function uploadRound(dir: string, csrs: string[]): Promise<{ perSecond: number; latencies: number[] }> {
  const databaseUrl = await createPostgresDatabase();
  const port = await freePort();
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const service = spawn(process.execPath, [...profile, 'bin/ons-certs.js', 'serve'], {
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dir,
      DATABASE_URL: databaseUrl,
      CA_CERT_PATH: join(dir, 'ca.pem'),
      CA_KEY_PATH: join(dir, 'ca.key'),
      ADMIN_TOKEN,
      CSR_MIN_RSA_BITS: '2048',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHealth(base);
    const line = await prepareLine(base);
    // Warm-up outside the measurement, with as many clients as the measurement: JIT, and the
    // connection pool grown to the size they need (opening connections is not the upload path).
    let next = 0;
    const uploadUntil = (end: number, latencies?: number[]) =>
      Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < end) {
            const csr = csrs[next++]!;
            const t0 = performance.now();
            await upload(line, csr);
            latencies?.push(performance.now() - t0);
          }
        }),
      );
    await uploadUntil(WARM_UP);
    const latencies: number[] = [];
    const started = performance.now();
    await uploadUntil(csrs.length, latencies);
    return { perSecond: latencies.length / ((performance.now() - started) / 1000), latencies };
  } finally {
    await stop(service);
    await dropPostgresDatabase(databaseUrl);
  }
}

async function prepareLine(base: string) {
  const json = async (path: string, token: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  };
  const supplier = await json('/api/admin/suppliers', ADMIN_TOKEN, {
    name: 'Bench B.V.',
    email: 'bench@example.com',
  });
  const token = String(supplier.token);
  await json('/api/connectors', token, { technicalName: 'bench_connector', name: 'Bench' });
  await json('/api/connectors/bench_connector/versions', token, { version: '1.0' });
  await json('/api/connectors/bench_connector/versions/1.0/environments', token, { customerCode: 'TE1002' });
  return { url: `${base}/api/connectors/bench_connector/versions/1.0/environments/TE1002/csr`, token };
}

// node:http with keep-alive: the lightest client, so the client takes little of the CPU the
// service and PostgreSQL need on a small machine.
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function upload(line: { url: string; token: string }, csr: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(csr);
    const headers = {
      authorization: `Bearer ${line.token}`,
      'content-type': 'text/plain',
      'content-length': body.length,
    };
    const req = request(line.url, { method: 'PUT', agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        res.statusCode === 201 && text.includes('"signed"')
          ? resolve()
          : reject(new Error(`upload: ${res.statusCode} ${text}`)),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function waitForHealth(base: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the service did not start');
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}
