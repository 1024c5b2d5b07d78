import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { ROOT, tempDir } from '../helpers/fixtures.ts';
import { CA_PEM, curl, startCrlWorld, type Client, type CrlWorld } from '../helpers/gateway.ts';
import { eventually } from '../helpers/github.ts';
import { freePort } from '../helpers/net.ts';

/** `ons-certs gateway …` as its own process; resolves once it listens. */
async function startGatewayCommand(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['bin/ons-certs.js', 'gateway', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.on('data', (chunk) => (stderr += chunk));
  await eventually(() => {
    expect(child.exitCode, stderr).toBeNull();
    expect(stderr).toContain('ons-certs gateway listening on https://127.0.0.1:');
  }, 20_000);
  return { child, log: () => stderr };
}

async function stop(child: ChildProcess | undefined): Promise<number | null> {
  if (!child || child.exitCode !== null) return child?.exitCode ?? null;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

describe('ons-certs gateway', () => {
  let world: CrlWorld;
  let client: Client;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    world = await startCrlWorld();
    client = await world.issue('cli');
  }, 60_000);
  afterAll(async () => {
    for (const child of children) await stop(child);
    await world?.close();
  });

  it('reads the CRL from the database, with a self-signed localhost certificate it makes under DATA_DIR/gateway', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const { child, log } = await startGatewayCommand(
      ['--port', String(port), '--crl-refresh-seconds', '0.5'],
      {
        DATA_DIR: dataDir,
        DATABASE_URL: world.databaseUrl,
        CA_CERT_PATH: CA_PEM,
        CA_KEY_PATH: world.env['CA_KEY_PATH']!,
      },
    );
    children.push(child);
    const serverCert = join(dataDir, 'gateway', 'server.pem');
    expect(existsSync(serverCert)).toBe(true);
    expect(log()).toContain(`curl --cacert ${serverCert}`);
    expect(log()).toContain('CRL from the database');

    const answer = await curl(port, '/ping', client, ['--cacert', serverCert]);
    expect(answer).toMatchObject({ status: 200, body: `${client.commonName}\n` });
    expect(await stop(child)).toBe(0);
  });

  it('follows PUBLIC_URL/crl.pem with --crl-url: a disable through the API is refused, an enable let in again', async () => {
    const port = await freePort();
    const { child, log } = await startGatewayCommand(
      ['--port', String(port), '--crl-url', `${world.service.url}/crl.pem`, '--crl-refresh-seconds', '0.5'],
      {
        DATA_DIR: await tempDir(),
        CA_CERT_PATH: CA_PEM,
        CA_KEY_PATH: world.env['CA_KEY_PATH']!,
      },
    );
    children.push(child);
    expect(log()).toContain(`CRL from ${world.service.url}/crl.pem`);
    const serverCert = log().match(/curl --cacert (\S+server\.pem)/)![1]!;
    const call = () => curl(port, '/ping', client, ['--cacert', serverCert]);
    expect((await call()).status).toBe(200);

    expect(await world.setEnabled(client.serial, false)).toBe(200);
    await eventually(async () => expect((await call()).status).toBe(0));
    // The child's log line may reach us a moment after curl saw the refusal.
    await eventually(() => expect(log()).toContain('CERT_REVOKED'));
    expect(await world.setEnabled(client.serial, true)).toBe(200);
    await eventually(async () => expect((await call()).status).toBe(200));
    expect(await stop(child)).toBe(0);
  });

  it('refuses bad usage with exit code 2', async () => {
    const env = { CA_CERT_PATH: CA_PEM, CA_KEY_PATH: world.env['CA_KEY_PATH']! };
    const [noPort, badUrl, unknown, noCa] = await Promise.all([
      runCli(['gateway'], env),
      runCli(['gateway', '--port', '1', '--upstream', 'ftp://x'], env),
      runCli(['gateway', '--port', '1', '--fast'], env),
      runCli(['gateway', '--port', '1'], { DATA_DIR: await tempDir() }),
    ]);
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toContain('gateway needs --port P');
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('--upstream must be an http(s) URL');
    expect(unknown.code).toBe(2);
    expect(noCa.code).toBe(2);
    expect(noCa.stderr).toMatch(/cannot read the CA certificate .*ca\.pem/);
  });
});
