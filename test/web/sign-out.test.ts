import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PageClient } from '../helpers/web-client.ts';
import { startWebService, type WebService } from '../helpers/web.ts';

let web: WebService;
let sql: postgres.Sql;
let token: string;

beforeAll(async () => {
  web = await startWebService();
  sql = postgres(web.databaseUrl, { max: 1, onnotice: () => undefined });
  token = await web.addSupplier('Example Software');
}, 60_000);
afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await web?.close();
});

/** Signs a client out through the sign-out page, as a browser does. */
async function signOut(client: PageClient) {
  expect((await client.get('/logout')).status).toBe(200);
  return client.post('/logout', {});
}

describe('signing out ends the session on the server', () => {
  it('a cookie copied before sign-out is refused afterwards; a new sign-in works', async () => {
    const browser = new PageClient(web.url);
    await browser.signIn(token);
    expect((await browser.get('/connectors')).status).toBe(200);
    // Someone copies the cookie (another tab's profile, a shared computer, a stolen backup).
    const copy = new PageClient(web.url);
    copy.cookie = browser.cookie;
    expect((await copy.get('/connectors')).status).toBe(200);

    const out = await signOut(browser);
    expect([out.status, out.location]).toEqual([303, '/login?signed_out=1']);
    expect(browser.cookie).toBeUndefined();

    // Before: the copy worked for the rest of its 8 hours. Now it is sent to the sign-in page.
    const refused = await copy.get('/connectors');
    expect([refused.status, refused.location]).toEqual([303, '/login?next=%2Fconnectors']);
    const login = await copy.get('/login');
    expect(login.status).toBe(200);
    expect(login.html).toContain('Sign in');
    // The sign-in page replaced the dead cookie with a new (anonymous) session.
    expect(copy.cookie).not.toBeUndefined();
    expect((await copy.get('/connectors')).status).toBe(303);

    const again = new PageClient(web.url);
    await again.signIn(token);
    expect((await again.get('/connectors')).status).toBe(200);
    // Even the same browser signs in again (a new session, a new nonce).
    await browser.signIn(token);
    expect((await browser.get('/connectors')).status).toBe(200);
  });

  it('keeps an ended session until it would have expired, and deletes expired ones on sign-out', async () => {
    await sql`insert into ended_sessions (nonce, expires_at) values ('expired-nonce-0000000000', now() - interval '1 minute')`;
    const browser = new PageClient(web.url);
    await browser.signIn(token);
    const before = Date.now();
    await signOut(browser);
    const rows = await sql<
      { nonce: string; expires_at: Date }[]
    >`select nonce, expires_at from ended_sessions`;
    expect(rows.map((r) => r.nonce)).not.toContain('expired-nonce-0000000000');
    const hours = rows.map((r) => (r.expires_at.getTime() - before) / 3600_000);
    // The newest: 8 hours from its sign-in.
    expect(Math.max(...hours)).toBeGreaterThan(7.99);
    expect(Math.max(...hours)).toBeLessThanOrEqual(8);
  });

  it('signing out without being signed in records nothing', async () => {
    const count = async () =>
      (await sql<{ n: number }[]>`select count(*)::int as n from ended_sessions`)[0]!.n;
    const before = await count();
    const visitor = new PageClient(web.url);
    await visitor.get('/login');
    const out = await visitor.post('/logout', {});
    expect(out.status).toBe(303);
    expect(await count()).toBe(before);
  });
});
