import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService } from '../../src/main.ts';
import { createPostgresDatabase, dropPostgresDatabase } from '../helpers/database.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { assertGitHubDone, quietFor } from '../helpers/bot-world.ts';
import { issueEvent, startBot, ticketBody, WEBHOOK_SECRET, type BotHarness } from '../helpers/github.ts';

describe('the webhook endpoint', () => {
  let bot: BotHarness;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    bot = await startBot();
  }, 60_000);
  afterAll(async () => {
    await bot?.close();
    nock.enableNetConnect();
  });

  const post = (body: string, signature: string, extra: Record<string, string> = {}) =>
    fetch(`${bot.url}/api/github/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': 'd-1',
        'x-hub-signature-256': signature,
        ...extra,
      },
      body,
    });
  const sign = (body: string, secret = WEBHOOK_SECRET) =>
    `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const ticket = JSON.stringify(
    issueEvent('opened', {
      number: 1,
      body: ticketBody({ connector: 'x', version: '1', customerCode: 'TE1234' }),
    }),
  );

  it('refuses a delivery signed with another secret, and does nothing', async () => {
    const response = await post(ticket, sign(ticket, 'not-the-secret'));
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/signature does not match/i);
    // Had the bot acted, its GitHub calls would show up as unexpected ones.
    await quietFor(300);
    assertGitHubDone();
  });

  it('refuses a body over 64 KiB with 413', async () => {
    const big = JSON.stringify({ padding: 'x'.repeat(70 * 1024) });
    const response = await post(big, sign(big));
    expect(response.status).toBe(413);
  });

  it('refuses a delivery without the GitHub headers', async () => {
    const response = await fetch(`${bot.url}/api/github/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: ticket,
    });
    expect(response.status).toBe(400);
  });
});

describe('without the GitHub App configured', () => {
  it('runs everything else, says in the log that the bot is off, and answers webhooks with 503', async () => {
    const databaseUrl = await createPostgresDatabase();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const service = await startService(
      loadConfig({
        PORT: '0',
        DATA_DIR: await tempDir('ons-certs-nobot-'),
        DATABASE_URL: databaseUrl,
        QUEUE_PREFIX: `test-nobot-${Date.now()}`,
        CSR_MIN_RSA_BITS: '2048',
        ...(process.env['REDIS_URL'] ? { REDIS_URL: process.env['REDIS_URL'] } : {}),
      }),
      createLogger('info', sink),
    );
    try {
      const response = await fetch(`${service.url}/api/github/webhooks`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(503);
      expect(((await response.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('bot_off');
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      expect(lines.join('')).toMatch(
        /GitHub App is not configured \(APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET unset\)/,
      );
    } finally {
      await service.close();
      await dropPostgresDatabase(databaseUrl);
    }
  }, 60_000);
});
