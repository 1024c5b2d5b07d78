import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService } from '../../src/main.ts';
import { ensureRedis, redisAnswers, RedisUnavailable } from '../../src/queue/redis-availability.ts';
import { CA_DIR, run, tempDir } from '../helpers/fixtures.ts';
import { freePort } from '../helpers/net.ts';

const log = createLogger('silent');

describe('making sure Redis answers', () => {
  it('uses a Redis that answers, without starting anything', async () => {
    const redis = await ensureRedis('redis://127.0.0.1:6379', await tempDir(), log);
    expect(redis.startedChild).toBe(false);
    await redis.stop();
    expect(await redisAnswers('redis://127.0.0.1:6379')).toBe(true);
  });

  it('starts redis-server as a child, with its data under DATA_DIR/redis, and stops it again', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const dataDir = await tempDir();
    expect(await redisAnswers(url)).toBe(false);
    const redis = await ensureRedis(url, dataDir, log);
    try {
      expect(redis.startedChild).toBe(true);
      expect(await redisAnswers(url)).toBe(true);
      expect(existsSync(join(dataDir, 'redis'))).toBe(true);
    } finally {
      await redis.stop();
    }
    expect(await redisAnswers(url)).toBe(false);
  });

  it('names the three ways to get Redis when it cannot start one', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const error = await ensureRedis(url, await tempDir(), log, '').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailable);
    expect((error as Error).message).toMatch(/redis-server is not on the PATH/);
    expect((error as Error).message).toMatch(/set REDIS_URL/);
    expect((error as Error).message).toMatch(/docker compose up -d redis/);
    const remote = await ensureRedis('redis://:secret@redis.invalid:6379', await tempDir(), log).catch(
      (e: unknown) => e,
    );
    expect(remote).toBeInstanceOf(RedisUnavailable);
    expect((remote as Error).message).not.toContain('secret');
  });

  it('lets `serve` run with its own Redis, reported healthy, and stops it on close', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const service = await startService(
      loadConfig({
        PORT: '0',
        DATA_DIR: await tempDir(),
        REDIS_URL: url,
        CA_CERT_PATH: join(CA_DIR, 'ca.pem'),
        CA_KEY_PATH: join(CA_DIR, 'ca.key'),
        LOG_LEVEL: 'silent',
      }),
      log,
    );
    try {
      const health = await fetch(`${service.url}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok', database: 'ok', redis: 'ok' });
      // Redis goes away: /healthz says so (503, naming it) instead of hanging.
      await run('redis-cli', ['-u', url, 'shutdown', 'nosave']).catch(() => undefined);
      const sick = await fetch(`${service.url}/healthz`);
      expect(sick.status).toBe(503);
      expect(await sick.json()).toEqual({
        status: 'unavailable',
        database: 'ok',
        redis: 'failed',
        failed: ['redis'],
      });
    } finally {
      await service.close();
    }
    expect(await redisAnswers(url)).toBe(false);
  });
});
