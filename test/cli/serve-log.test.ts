import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CA_DIR, ROOT, tempDir } from '../helpers/fixtures.ts';
import { eventually } from '../helpers/github.ts';
import { freePort } from '../helpers/net.ts';

const running: ChildProcess[] = [];

/**
 * Runs `command` (argv) with `env` over the process environment, LOG_FORMAT unset unless given;
 * resolves once its output says it listens, with what it wrote to stdout and stderr.
 */
async function startUntilListening(command: string[], env: Record<string, string>) {
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base['LOG_FORMAT'];
  delete base['LOG_LEVEL'];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  await eventually(() => {
    expect(child.exitCode, stdout + stderr).toBeNull();
    expect(stdout + stderr).toContain('ons-certs is listening');
  }, 60_000);
  return { child, stdout: () => stdout, stderr: () => stderr };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

afterEach(async () => {
  for (const child of running.splice(0)) await stop(child);
});

const serve = [process.execPath, 'bin/ons-certs.js', 'serve'];
const quickEnv = async () => ({
  DATA_DIR: await tempDir(),
  PORT: String(await freePort()),
  REDIS_URL: 'redis://127.0.0.1:6379',
  QUEUE_PREFIX: `test-log-${randomBytes(4).toString('hex')}`,
  CA_CERT_PATH: join(CA_DIR, 'ca.pem'),
  CA_KEY_PATH: join(CA_DIR, 'ca.key'),
});

/** Issue 13, item 10: the log of `npm start`, for a person at a terminal and for a collector. */
describe('the log of ons-certs serve', () => {
  it('says what the first start does, in order, each step with how long it took; the next start opens what is there', async () => {
    // A fresh DATA_DIR, no CA configured and no Redis at REDIS_URL: the first start of the README.
    const env = {
      DATA_DIR: await tempDir(),
      PORT: String(await freePort()),
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    };
    const first = await startUntilListening(serve, env);
    // stderr is a pipe here: JSON lines, one object each.
    const lines = first
      .stderr()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; ms?: number });
    const messages = lines.map((line) => line.msg);
    const dir = join(env.DATA_DIR, 'pglite');
    const steps = [
      `creating the embedded database (PGlite) under ${dir}: the first start takes a few seconds …`,
      /^embedded database created \(\d+(\.\d)? m?s\)$/,
      'migrating the database …',
      /^database migrated \(\d+(\.\d)? m?s\)$/,
      'no CA configured: generating the development CA (RSA 4096): this takes a few seconds …',
      /^development CA generated \(\d+(\.\d)? m?s\)$/,
      /^no Redis answers at REDIS_URL: starting redis-server on port \d+ as a child process …$/,
      /^redis-server started \(\d+(\.\d)? m?s\)$/,
      'ons-certs is listening',
    ];
    let at = -1;
    for (const step of steps) {
      const found = messages.findIndex(
        (message, index) => index > at && (typeof step === 'string' ? message === step : step.test(message)),
      );
      expect(
        found,
        `"${String(step)}" after "${messages[at] ?? ''}" in:\n${messages.join('\n')}`,
      ).toBeGreaterThan(at);
      at = found;
    }
    // The first line comes soon after the start: the long steps are announced before they run.
    const created = lines.find((line) => line.msg.startsWith('embedded database created'))!;
    expect(created.ms).toBeGreaterThan(0);
    await stop(first.child);

    const second = await startUntilListening(serve, env);
    const again = second.stderr();
    expect(again).toContain(`opening the embedded database (PGlite) under ${dir} …`);
    expect(again).not.toContain('creating the embedded database');
    expect(again).not.toContain('generating the development CA');
  }, 120_000);

  it('writes readable lines when LOG_FORMAT=pretty, without colours when stderr is no terminal', async () => {
    const service = await startUntilListening(serve, { ...(await quickEnv()), LOG_FORMAT: 'pretty' });
    const log = service.stderr();
    expect(log).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: ons-certs is listening$/m);
    expect(log).toMatch(/^ {4}url: "http:\/\/127\.0\.0\.1:\d+"$/m);
    expect(log).not.toMatch(/^\{/m);
    expect(log).not.toContain('\u001b['); // no colour codes in a file
  }, 60_000);

  it('is pretty on a terminal (a pseudo-terminal through script(1)) and JSON lines when LOG_FORMAT=json', async () => {
    const env = await quickEnv();
    // script gives the command a pseudo-terminal as stdin, stdout and stderr; it copies to its stdout.
    const tty = await startUntilListening(['script', '-qefc', serve.join(' '), '/dev/null'], env);
    const log = tty.stdout();
    const ESC = '\u001b';
    expect(log).toContain(`${ESC}[32mINFO${ESC}[39m: ${ESC}[36mons-certs is listening`); // green level, cyan message
    expect(log).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] /m);
    expect(log).not.toContain('"msg":');
    await stop(tty.child);

    const forced = await startUntilListening(['script', '-qefc', serve.join(' '), '/dev/null'], {
      ...(await quickEnv()),
      LOG_FORMAT: 'json',
    });
    const lines = forced.stdout().trim().split(/\r?\n/);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  }, 90_000);
});
