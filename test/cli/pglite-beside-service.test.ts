import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { CA_DIR, ROOT, tempDir } from '../helpers/fixtures.ts';
import { eventually } from '../helpers/github.ts';
import { httpCall } from '../helpers/http.ts';
import { freePort } from '../helpers/net.ts';

const ADMIN = 'admin-token-for-tests-0123456789';

interface Service {
  child: ChildProcess;
  url: string;
  log: () => string;
}

/**
 * Issue 13, item 1: `npx ons-certs supplier add` beside `npm start` on the embedded PGlite
 * printed a token the running service rejected, and writes over the API were lost after a
 * restart. Now whichever process opens DATA_DIR/pglite first holds it; every other one is
 * refused at once, with the holder's pid and what to do.
 */
describe('the CLI and a second service beside a running service on the embedded PGlite', () => {
  let env: Record<string, string>;
  let service: Service | undefined;
  const lockPath = () => join(env['DATA_DIR']!, 'pglite.lock');

  /** `ons-certs serve` as `npm start` runs it; resolves once it listens. */
  async function startServe(): Promise<Service> {
    const port = await freePort();
    const child = spawn(process.execPath, ['bin/ons-certs.js', 'serve'], {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await eventually(() => {
      expect(child.exitCode, output).toBeNull();
      expect(output).toContain('ons-certs is listening');
    }, 30_000);
    return { child, url: `http://127.0.0.1:${port}`, log: () => output };
  }

  async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const running = service;
    service = undefined;
    if (!running || running.child.exitCode !== null) return running?.child.exitCode ?? null;
    const exited = once(running.child, 'exit');
    running.child.kill(signal);
    const [code] = (await exited) as [number | null];
    return code;
  }

  const call = <T>(verb: string, path: string, token: string, body?: unknown) =>
    httpCall<T>(`${service!.url}${path}`, verb, token, body);

  beforeAll(async () => {
    env = {
      DATA_DIR: await tempDir(),
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: `test-lock-${randomBytes(4).toString('hex')}`,
      CA_CERT_PATH: join(CA_DIR, 'ca.pem'),
      CA_KEY_PATH: join(CA_DIR, 'ca.key'),
      ADMIN_TOKEN: ADMIN,
      CSR_MIN_RSA_BITS: '2048',
    };
  });
  afterAll(async () => {
    await stop();
  });

  it('refuses every CLI command that opens the database, and a second serve; the API writes survive a restart', async () => {
    service = await startServe();
    const pid = service.child.pid!;
    expect(JSON.parse(readFileSync(lockPath(), 'utf8'))).toMatchObject({ pid, command: 'ons-certs serve' });
    const inUse =
      `ons-certs: the embedded database ${join(env['DATA_DIR']!, 'pglite')} is in use by another process: ` +
      `pid ${pid} (ons-certs serve, since `;
    const stopIt = `Stop that process first (Ctrl-C in its terminal, or kill ${pid})`;

    const commands: [string[], string][] = [
      [
        ['supplier', 'add', '--name', 'CLI Software B.V.', '--email', 'cli@example.com'],
        'or, while it runs, add the supplier through its admin API: POST /api/admin/suppliers with ADMIN_TOKEN',
      ],
      [
        ['version', 'approve', 'hr_integration', '1.0'],
        'or, while it runs, approve through its admin API: POST /api/admin/connectors/hr_integration/versions/1.0/approve with ADMIN_TOKEN',
      ],
      [['db', 'migrate'], 'there is nothing to do: a service applies the migrations when it starts'],
      // The blocked keys have no API: only stopping the service (or PostgreSQL) is offered.
      [['key', 'list'], `kill ${pid}); or set DATABASE_URL`],
      [
        ['key', 'block', '--spki-sha256', 'ab'.repeat(32), '--reason', 'leaked'],
        `kill ${pid}); or set DATABASE_URL`,
      ],
    ];
    for (const [args, instead] of commands) {
      const started = Date.now();
      const result = await runCli(args, env);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stdout, args.join(' ')).toBe(''); // no token printed
      expect(result.stderr).toContain(inUse);
      expect(result.stderr).toContain(stopIt);
      expect(result.stderr).toContain(instead);
      expect(result.stderr).toContain('or set DATABASE_URL to a PostgreSQL database');
      expect(Date.now() - started, 'refused at once').toBeLessThan(10_000);
    }

    expect((await runCli(['key', 'list'], { ...env })).stderr).not.toContain('while it runs');

    // A second `serve` (another port) on the same DATA_DIR.
    const second = await runCli(['serve'], { ...env, PORT: String(await freePort()), LOG_LEVEL: 'info' });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(inUse);
    expect(second.stderr).not.toContain('ons-certs is listening');

    // The running service still holds its lock and works.
    expect(JSON.parse(readFileSync(lockPath(), 'utf8'))).toMatchObject({ pid });
    const supplier = await call<{ token: string }>('POST', '/api/admin/suppliers', ADMIN, {
      name: 'API Software B.V.',
      email: 'api@example.com',
    });
    expect(supplier.status).toBe(201);
    const { token } = supplier.json;
    const connector = { technicalName: 'hr_integration', name: 'HR integration' };
    expect((await call('POST', '/api/connectors', token, connector)).status).toBe(201);
    const version = await call('POST', '/api/connectors/hr_integration/versions', token, { version: '1.0' });
    expect(version.status).toBe(201);

    expect(await stop()).toBe(0);
    expect(existsSync(lockPath()), 'a clean stop lets go of the lock').toBe(false);

    // With the service stopped the CLI works; its supplier's token works in the next service.
    const added = await runCli(
      ['supplier', 'add', '--name', 'CLI Software B.V.', '--email', 'cli@example.com'],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
    const cliToken = added.stdout.trim();
    const approved = await runCli(['version', 'approve', 'hr_integration', '1.0'], env);
    expect(approved.code, approved.stderr).toBe(0);

    service = await startServe();
    const connectors = await call('GET', '/api/connectors', token);
    expect(connectors.status).toBe(200);
    expect(connectors.json).toEqual([
      {
        technicalName: 'hr_integration',
        name: 'HR integration',
        versions: [{ version: '1.0', state: 'approved' }],
      },
    ]);
    expect((await call('GET', '/api/connectors', cliToken)).status).toBe(200);
  }, 120_000);

  it('takes over the lock a killed (SIGKILL) service left, and its data is there', async () => {
    service ??= await startServe();
    const killed = service.child.pid!;
    const supplier = await call<{ token: string }>('POST', '/api/admin/suppliers', ADMIN, {
      name: 'Before The Kill B.V.',
      email: 'kill@example.com',
    });
    expect(supplier.status).toBe(201);
    await stop('SIGKILL');
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')), 'the lock is left behind').toMatchObject({
      pid: killed,
    });

    service = await startServe();
    expect(JSON.parse(readFileSync(lockPath(), 'utf8'))).toMatchObject({ pid: service.child.pid });
    expect((await call('GET', '/api/connectors', supplier.json.token)).status).toBe(200);
  }, 120_000);
});
