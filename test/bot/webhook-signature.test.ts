import { createHmac, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import nock from 'nock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertGitHubDone, quietFor } from '../helpers/bot-world.ts';
import { issueEvent, startBot, WEBHOOK_SECRET, type BotHarness } from '../helpers/github.ts';
import { captureLog, type CapturedLog } from '../helpers/log-capture.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const PATH = '/api/github/webhooks';
/** Bytes that stand for what anyone can send: never in the log. */
const MARKER = `MARKER${randomBytes(8).toString('hex')}`;
const sign = (body: string | Buffer, secret = WEBHOOK_SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('the webhook endpoint before Probot: signatures, headers, encodings (real service)', () => {
  let bot: BotHarness;
  let log: CapturedLog;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    log = captureLog('debug');
    bot = await startBot({ logger: log.logger });
  }, 60_000);
  afterAll(async () => {
    await bot?.close();
    nock.enableNetConnect();
  });
  beforeEach(() => log.clear());

  const headers = (body: string | Buffer, extra: Record<string, string> = {}) => ({
    'content-type': 'application/json',
    'x-github-event': 'issues',
    'x-github-delivery': `d-${randomBytes(4).toString('hex')}`,
    'x-hub-signature-256': sign(body),
    ...extra,
  });
  const deliver = (body: string | Buffer, extra: Record<string, string> = {}, method = 'POST') =>
    rawRequest(bot.url, method, PATH, headers(body, extra), body);
  /** Lines at error level or above, and whether the marker reached the log. */
  const errorLines = () => log.entries().filter((e) => Number(e['level']) >= 50);

  it('answers 300 wrongly signed 60 KB deliveries with 400 and one short warn line each', async () => {
    const body = JSON.stringify({ action: 'opened', pad: MARKER.repeat(60_000 / MARKER.length) });
    for (let i = 0; i < 300; i++) {
      const reply = await deliver(body, { 'x-hub-signature-256': sign(body, 'not-the-secret') });
      expect([reply.status, reply.codes]).toEqual([400, ['webhook_signature_invalid']]);
      expect(reply.text).toMatch(/signature does not match/);
    }
    const text = log.text();
    expect(text).not.toContain(MARKER);
    expect(errorLines()).toEqual([]);
    const refusals = log.entries().filter((e) => e['code'] === 'webhook_signature_invalid');
    expect(refusals).toHaveLength(300);
    expect(refusals.every((e) => e['level'] === 40 && e['event'] === 'issues' && e['delivery'])).toBe(true);
    // One line is a few hundred bytes; Probot wrote ~186 KB per delivery of this size.
    expect(text.length).toBeLessThan(300 * 400);
    await quietFor(100);
    assertGitHubDone();
  }, 60_000);

  it.each([
    ['no signature header', { 'x-hub-signature-256': '' }, 'webhook_headers_missing'],
    ['no event header', { 'x-github-event': '' }, 'webhook_headers_missing'],
    ['no delivery header', { 'x-github-delivery': '' }, 'webhook_headers_missing'],
    ['a sha1 signature', { 'x-hub-signature-256': `sha1=${'0'.repeat(40)}` }, 'webhook_signature_malformed'],
    [
      'a signature that is not hex',
      { 'x-hub-signature-256': `sha256=${'z'.repeat(64)}` },
      'webhook_signature_malformed',
    ],
  ])(
    'answers a delivery with %s with 400 and a code, no stack, one warn line',
    async (_name, extra, code) => {
      const body = JSON.stringify({ action: 'opened', x: MARKER });
      const send = Object.fromEntries(Object.entries(headers(body, extra)).filter(([, v]) => v !== ''));
      const reply = await rawRequest(bot.url, 'POST', PATH, send, body);
      expect([reply.status, reply.codes]).toEqual([400, [code]]);
      expect(reply.text).not.toMatch(/\bat .*:\d+|stack/);
      expect(log.text()).not.toContain(MARKER);
      expect(errorLines()).toEqual([]);
      expect(
        log
          .entries()
          .filter((e) => e['code'] === code)
          .map((e) => e['level']),
      ).toEqual([40]);
    },
  );

  it('answers a validly signed body that is not a JSON object with 400 webhook_payload_invalid', async () => {
    for (const body of [`{"x": "${MARKER}"`, `["${MARKER}"]`, `"${MARKER}"`, 'null']) {
      const reply = await deliver(body);
      expect([reply.status, reply.codes]).toEqual([400, ['webhook_payload_invalid']]);
    }
    expect(log.text()).not.toContain(MARKER);
    expect(errorLines()).toEqual([]);
  });

  it('answers an empty or invalid event name with 400 (Probot answered "Event name not passed" with a 500)', async () => {
    const body = JSON.stringify({ x: MARKER });
    const empty = await rawRequest(bot.url, 'POST', PATH, headers(body, { 'x-github-event': '' }), body);
    expect([empty.status, empty.codes]).toEqual([400, ['webhook_headers_missing']]);
    const odd = await deliver(body, { 'x-github-event': 'Issues Opened!' });
    expect([odd.status, odd.codes]).toEqual([400, ['webhook_event_invalid']]);
    expect(errorLines()).toEqual([]);
  });

  it.each([
    ['installation', (p: Record<string, unknown>) => delete p['installation'], 'installation'],
    ['repository', (p: Record<string, unknown>) => (p['repository'] = MARKER), 'repository'],
    [
      'issue.number',
      (p: Record<string, unknown>) => ((p['issue'] as Record<string, unknown>)['number'] = MARKER),
      'issue.number',
    ],
    [
      'issue.body',
      (p: Record<string, unknown>) => ((p['issue'] as Record<string, unknown>)['body'] = 7),
      'issue.body',
    ],
  ])(
    'answers a validly signed issues.opened without a proper %s with 400 (a handler failed with a 500)',
    async (_name, spoil, path) => {
      const payload = issueEvent('opened', { number: 7, body: `### Connector\n\n${MARKER}` });
      spoil(payload);
      const reply = await deliver(JSON.stringify(payload));
      expect([reply.status, reply.codes]).toEqual([400, ['webhook_payload_invalid']]);
      expect(reply.text).toContain(path);
      expect(reply.text).not.toContain(MARKER);
      expect(log.text()).not.toContain(MARKER);
      expect(errorLines()).toEqual([]);
      await quietFor(100);
      assertGitHubDone();
    },
  );

  it('answers another content type with 415 and GET with 405', async () => {
    const body = JSON.stringify({ x: MARKER });
    const form = await deliver(body, { 'content-type': 'application/x-www-form-urlencoded' });
    expect([form.status, form.codes]).toEqual([415, ['unsupported_media_type']]);
    const get = await rawRequest(bot.url, 'GET', PATH);
    expect([get.status, get.codes, get.headers['allow']]).toEqual([405, ['method_not_allowed'], 'POST']);
  });

  it.each([
    ['content-encoding: xyz', { 'content-encoding': 'xyz' }, 415, 'unsupported_encoding'],
    ['gzip that is not gzip', { 'content-encoding': 'gzip' }, 400, 'malformed_encoding'],
  ])('answers %s with a 4xx code, no stack, one warn line', async (_name, extra, status, code) => {
    const body = JSON.stringify({ x: MARKER });
    const reply = await deliver(body, extra);
    expect([reply.status, reply.codes]).toEqual([status, [code]]);
    expect(reply.text).not.toMatch(/\bat .*:\d+|stack/);
    expect(log.text()).not.toContain(MARKER);
    expect(errorLines()).toEqual([]);
    expect(
      log
        .entries()
        .filter((e) => e['code'] === code)
        .map((e) => e['level']),
    ).toEqual([40]);
  });

  it('still takes a validly signed delivery, gzipped too, and one with an odd charset (200)', async () => {
    const body = JSON.stringify({ action: 'closed', x: MARKER });
    expect((await deliver(body)).status).toBe(200);
    const zipped = gzipSync(body);
    // GitHub signs what it sends before compression would apply: the signature is over the JSON.
    const gz = await rawRequest(bot.url, 'POST', PATH, headers(body, { 'content-encoding': 'gzip' }), zipped);
    expect(gz.status).toBe(200);
    const charset = await deliver(body, { 'content-type': 'application/json; charset=x-bogus' });
    expect(charset.status).toBe(200);
    expect(errorLines()).toEqual([]);
    expect(log.text()).not.toContain(MARKER);
  });
});
