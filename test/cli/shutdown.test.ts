import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTicketUpdate } from '../../src/queue/enqueue.ts';
import { CA_DIR, ROOT, tempDir } from '../helpers/fixtures.ts';
import { eventually } from '../helpers/github.ts';
import { freePort } from '../helpers/net.ts';
import { REDIS_URL, useTestQueues } from '../helpers/queues.ts';

/** A "GitHub" that takes connections and never answers them: what an outage looks like. */
let blackHole: Server;
const held: Socket[] = [];
let child: ChildProcess | undefined;
const test = useTestQueues('shutdown');

beforeAll(async () => {
  blackHole = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => blackHole.close(resolve));
});

/** Issue 16, item 5: a shutdown does not wait for GitHub jobs that cannot reach GitHub. */
describe('ons-certs serve, stopped while a github job waits for a GitHub that does not answer', () => {
  it('exits within 15 s of SIGTERM (a request still unanswered) and leaves the job to run again: not failed, not done', async () => {
    const port = (blackHole.address() as { port: number }).port;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: await tempDir(),
      PORT: String(await freePort()),
      REDIS_URL,
      QUEUE_PREFIX: test.prefix,
      CA_CERT_PATH: join(CA_DIR, 'ca.pem'),
      CA_KEY_PATH: join(CA_DIR, 'ca.key'),
      APP_ID: '1',
      PRIVATE_KEY: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      WEBHOOK_SECRET: 'shutdown-test-secret',
      GHE_HOST: `127.0.0.1:${port}`,
      GHE_PROTOCOL: 'http',
      LOG_FORMAT: 'json',
    };
    const started: ChildProcess = spawn(process.execPath, ['bin/ons-certs.js', 'serve'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = started;
    let log = '';
    started.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await eventually(() => expect(log).toContain('ons-certs is listening'), 60_000);

    await addTicketUpdate(test.queues, 'github-shutdown-test', {
      ticket: { installationId: 7, owner: 'nedap', repo: 'support', number: 1 },
      operations: [{ op: 'comment', kind: 'refusal', key: 'shutdown', body: 'never reaches GitHub' }],
      receivedAt: Date.now(),
    });
    // The worker has the job and is waiting for "GitHub".
    await eventually(() => expect(held.length).toBeGreaterThan(0), 30_000);

    const signalled = Date.now();
    const exited = once(started, 'exit');
    started.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    const seconds = (Date.now() - signalled) / 1000;

    expect(code).toBe(0);
    expect(seconds).toBeLessThan(15);
    expect(log).toMatch(/"msg":"stopped"/);
    const job = await test.queues.github.getJob('github-shutdown-test');
    expect(['active', 'waiting', 'delayed', 'prioritized']).toContain(await job!.getState());
  }, 120_000);
});
