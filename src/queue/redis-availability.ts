import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { humanDuration } from '../core/duration.ts';
import type { Logger } from '../log.ts';

/** Redis that answers, and how to let go of it (stops the child we started, if any). */
export interface AvailableRedis {
  url: string;
  startedChild: boolean;
  stop(): Promise<void>;
}

/** No Redis, and none we could start: the message names the ways to get one. */
export class RedisUnavailable extends Error {
  override name = 'RedisUnavailable';
}

/** Whether something answers PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Makes sure Redis answers at `url` (interfaces.md, `npm start`): when nothing answers there,
 * the URL points at this machine and `redis-server` is on the PATH, one is started as a child
 * with its data under `dataDir/redis` (append-only, so queued approvals survive a restart);
 * otherwise this fails with a message naming the three ways to get Redis.
 */
export async function ensureRedis(
  url: string,
  dataDir: string,
  log: Logger,
  path = process.env.PATH ?? '',
): Promise<AvailableRedis> {
  if (await redisAnswers(url)) return { url, startedChild: false, stop: async () => undefined };
  const target = new URL(url);
  const local = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(target.hostname);
  const server = findOnPath('redis-server', path);
  if (!local || !server || target.password) {
    throw new RedisUnavailable(
      `nothing answers at REDIS_URL ${target.protocol}//${target.host}: ` +
        (local && !server ? 'redis-server is not on the PATH to start one; ' : '') +
        'start Redis there (e.g. `redis-server`), set REDIS_URL to a Redis that runs, ' +
        'or run `docker compose up -d redis`',
    );
  }
  const dir = join(dataDir, 'redis');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const port = target.port || '6379';
  log.warn(
    { port, dir },
    `no Redis answers at REDIS_URL: starting redis-server on port ${port} as a child process …`,
  );
  const started = Date.now();
  const child = spawn(
    server,
    [
      '--port',
      port,
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  for (let attempt = 0; attempt < 50; attempt++) {
    if (child.exitCode !== null) break;
    if (await redisAnswers(url, 500)) {
      const ms = Date.now() - started;
      log.info({ port, ms }, `redis-server started (${humanDuration(ms)})`);
      return { url, startedChild: true, stop: () => stopChild(child) };
    }
    await sleep(100);
  }
  await stopChild(child);
  throw new RedisUnavailable(`redis-server did not start on port ${port}: ${stderr.trim() || 'no output'}`);
}

function findOnPath(command: string, path: string): string | undefined {
  return path
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, command))
    .find((candidate) => existsSync(candidate));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}
