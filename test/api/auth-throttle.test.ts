import { request } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH_FAILURES_ALLOWED,
  AUTH_FAILURE_WINDOW_SECONDS,
  createAuthThrottle,
} from '../../src/api/auth-throttle.ts';
import { createLogger } from '../../src/log.ts';
import { freePort } from '../helpers/net.ts';
import { startWebService, WEB_ADMIN_TOKEN, type WebService } from '../helpers/web.ts';

let web: WebService;
let token: string;

beforeAll(async () => {
  web = await startWebService();
  token = await web.addSupplier('Example Software');
}, 60_000);
afterAll(async () => web?.close());

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One HTTP request sent from a local address of our choice: Linux routes all of 127/8 to the
 * loopback interface, so 127.0.0.2 and 127.0.0.3 are two clients as the service sees them.
 */
function from(
  address: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
) {
  return new Promise<Reply>((resolve, reject) => {
    const req = request(`${web.url}${path}`, { method, headers, localAddress: address }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const bearer = (value: string) => ({ authorization: `Bearer ${value}` });
const code = (reply: Reply) => (JSON.parse(reply.text) as { errors: { code: string }[] }).errors[0]?.code;

/** A series of /metrics, read with the admin token from 127.0.0.1. */
async function metric(name: string, kind: string): Promise<number> {
  const text = (await from('127.0.0.1', 'GET', '/metrics', bearer(WEB_ADMIN_TOKEN))).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{kind="${kind}"}`));
  return line ? Number(line.split(' ').pop()) : NaN;
}

/** The sign-in form from one address: its cookie and CSRF token. */
async function loginForm(address: string): Promise<{ cookie: string; csrf: string }> {
  const page = await from(address, 'GET', '/login');
  const cookie = String((page.headers['set-cookie'] as string[])[0]).split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
  return { cookie, csrf };
}

async function signIn(address: string, attempt: string): Promise<Reply> {
  const { cookie, csrf } = await loginForm(address);
  const form = new URLSearchParams({ _csrf: csrf, token: attempt }).toString();
  return from(
    address,
    'POST',
    '/login',
    { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    form,
  );
}

describe('wrong API tokens are counted and slowed per client address', () => {
  it(`${AUTH_FAILURES_ALLOWED} wrong tokens from one address, then 429 with Retry-After; other addresses unaffected`, async () => {
    const failuresBefore = await metric('ons_certs_auth_failures_total', 'api_token');
    const throttledBefore = await metric('ons_certs_auth_throttled_total', 'api_token');
    for (let i = 0; i < AUTH_FAILURES_ALLOWED; i++) {
      const wrong = await from('127.0.0.2', 'GET', '/api/connectors', bearer(`ons_wrong-guess-${i}`));
      expect([wrong.status, code(wrong)]).toEqual([401, 'unauthorized']);
    }
    const throttled = await from('127.0.0.2', 'GET', '/api/connectors', bearer('ons_wrong-guess-next'));
    expect([throttled.status, code(throttled)]).toEqual([429, 'too_many_attempts']);
    const retryAfter = Number(throttled.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(AUTH_FAILURE_WINDOW_SECONDS);
    expect(JSON.parse(throttled.text).errors[0].message).toMatch(/try again in \d+ s/);

    // A valid token from the throttled address waits too: answering it would confirm a guess.
    const valid = await from('127.0.0.2', 'GET', '/api/connectors', bearer(token));
    expect([valid.status, code(valid)]).toEqual([429, 'too_many_attempts']);
    // The admin API and /metrics alike.
    expect((await from('127.0.0.2', 'GET', '/metrics', bearer(WEB_ADMIN_TOKEN))).status).toBe(429);
    // A request without any token guesses nothing: still the plain 401.
    expect((await from('127.0.0.2', 'GET', '/api/connectors')).status).toBe(401);

    // Another address: its valid token works, its wrong one is a plain 401.
    const other = await from('127.0.0.3', 'GET', '/api/connectors', bearer(token));
    expect(other.status).toBe(200);
    expect((await from('127.0.0.3', 'GET', '/api/connectors', bearer('ons_wrong-elsewhere'))).status).toBe(
      401,
    );

    expect(await metric('ons_certs_auth_failures_total', 'api_token')).toBe(
      failuresBefore + AUTH_FAILURES_ALLOWED + 1,
    );
    expect(await metric('ons_certs_auth_throttled_total', 'api_token')).toBe(throttledBefore + 3);
  });
});

describe('failed sign-ins are counted and slowed per client address', () => {
  it('wrong tokens on the sign-in form, then a 429 page saying when to try again', async () => {
    const failuresBefore = await metric('ons_certs_auth_failures_total', 'sign_in');
    for (let i = 0; i < AUTH_FAILURES_ALLOWED; i++) {
      const wrong = await signIn('127.0.0.4', `ons_wrong-guess-${i}`);
      expect(wrong.status).toBe(401);
      expect(wrong.text).toContain('This is not a supplier token we know');
    }
    const throttled = await signIn('127.0.0.4', 'ons_wrong-guess-next');
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(throttled.text).toContain('Too many attempts');
    expect(throttled.text).toMatch(/Try again in \d+ seconds, after \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    // The right token from there waits too; from elsewhere it signs in.
    expect((await signIn('127.0.0.4', token)).status).toBe(429);
    const elsewhere = await signIn('127.0.0.5', token);
    expect([elsewhere.status, elsewhere.headers['location']]).toEqual([303, '/connectors']);
    // An empty form is no guess: told to enter a token, not counted.
    expect((await signIn('127.0.0.5', '')).status).toBe(401);

    expect(await metric('ons_certs_auth_failures_total', 'sign_in')).toBe(
      failuresBefore + AUTH_FAILURES_ALLOWED,
    );
    expect(await metric('ons_certs_auth_throttled_total', 'sign_in')).toBeGreaterThanOrEqual(2);
  });

  it('sign-ins and API tokens share one allowance per address', async () => {
    // 127.0.0.2 used its allowance on the API in the test above.
    const page = await signIn('127.0.0.2', token);
    expect(page.status).toBe(429);
  });
});

describe('with Redis away', () => {
  it('each process counts in memory (the insurance limiter), and answers at once', async () => {
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    redis.on('error', () => undefined);
    const throttle = createAuthThrottle({ redis, prefix: 'test-no-redis', log: createLogger('silent') });
    try {
      const started = Date.now();
      for (let i = 0; i < AUTH_FAILURES_ALLOWED; i++) {
        expect(await throttle.waitFor('192.0.2.1', 'api_token')).toBeUndefined();
        await throttle.failed('192.0.2.1', 'api_token');
      }
      const wait = await throttle.waitFor('192.0.2.1', 'api_token');
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(AUTH_FAILURE_WINDOW_SECONDS);
      expect(await throttle.waitFor('192.0.2.2', 'api_token')).toBeUndefined();
      // IPv6: one /64 is one client.
      for (let i = 0; i < AUTH_FAILURES_ALLOWED; i++) await throttle.failed(`2001:db8::${i + 1}`, 'sign_in');
      expect(await throttle.waitFor('2001:db8::ffff', 'sign_in')).toBeGreaterThanOrEqual(1);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      redis.disconnect();
    }
  });
});
