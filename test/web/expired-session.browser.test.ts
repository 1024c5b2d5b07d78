import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookieName } from '../../src/web/cookies.ts';
import { deriveSessionKeys, encodeSession, SESSION_SECONDS } from '../../src/web/session.ts';
import { artifact, launchBrowser } from '../helpers/browser.ts';
import { loadTestCa } from '../helpers/fixtures.ts';
import { makeCsr } from '../helpers/services.ts';
import { startWebService, WEB_ADMIN_TOKEN, type WebService } from '../helpers/web.ts';

const TAB = '/connectors/hr_integration/versions/1.0';
type Line = { customerCode: string; request?: { state: string }; certificate?: { enabled: boolean } };

/**
 * Issue 13, item 3: a form of the tab sent after the session expired landed on a bare sign-in
 * page, with no word that the form was dropped and no way back to the tab. Now the sign-in page
 * says so and what to send again, and signing in leads back to the tab, which says it again.
 */
describe('a tab form sent with an expired session (Debian chromium, headless)', () => {
  let web: WebService;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let token = '';
  let supplierId = '';

  const row = (code: string) => page.locator(`#line-${code}`);
  const shoot = (name: string) => page.screenshot({ path: artifact(name), fullPage: true });
  const follow = async (target: Locator) => {
    await Promise.all([page.waitForNavigation(), target.click()]);
  };
  const lines = async () =>
    (await web.api<Line[]>(token, 'GET', `/api/connectors/hr_integration/versions/1.0/environments`)).json;
  const signIn = async () => {
    await page.getByLabel('Supplier token').fill(token);
    await follow(page.getByRole('button', { name: 'Sign in' }));
  };
  /** The browser's copy of the cookie: gone, as after its Max-Age of 8 hours. */
  const dropCookie = () => context.clearCookies();
  /**
   * A cookie the browser still sends but whose session ended an hour ago (a browser that kept
   * it, a clock that is off): signed with the service's own keys, so only its age is wrong.
   */
  const expireCookie = async () => {
    const ca = await loadTestCa();
    const issuedAt = Math.floor(Date.now() / 1000) - SESSION_SECONDS - 3600;
    const session = {
      supplierId,
      issuedAt,
      expiresAt: issuedAt + SESSION_SECONDS,
      nonce: randomBytes(16).toString('base64url'),
    };
    await context.clearCookies();
    await context.addCookies([
      {
        name: sessionCookieName(false),
        value: encodeSession(deriveSessionKeys(ca.privateKey), session),
        url: web.url,
      },
    ]);
  };

  beforeAll(async () => {
    web = await startWebService();
    browser = await launchBrowser();
    const supplier = await web.api<{ id: string; token: string }>(
      WEB_ADMIN_TOKEN,
      'POST',
      '/api/admin/suppliers',
      {
        name: 'Example Software B.V.',
        email: 'pki@example.com',
      },
    );
    ({ id: supplierId, token } = supplier.json);
    await web.api(token, 'POST', '/api/connectors', {
      technicalName: 'hr_integration',
      name: 'HR integration',
    });
    await web.api(token, 'POST', '/api/connectors/hr_integration/versions', { version: '1.0' });
    const line = await web.api(
      token,
      'POST',
      `${TAB.replace('/connectors', '/api/connectors')}/environments`,
      {
        customerCode: 'TE1002',
      },
    );
    expect(line.status).toBe(201);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await page.goto(`${web.url}${TAB}`);
    await signIn();
    expect(new URL(page.url()).pathname).toBe(TAB);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await web?.close();
  });

  it.each([
    ['the browser dropped the cookie', dropCookie],
    ['the cookie is sent but its session expired', expireCookie],
  ])(
    'an upload (%s) is not taken; the sign-in page says so and leads back to the tab',
    async (_how, expire) => {
      await page.goto(`${web.url}${TAB}`);
      const made = await makeCsr('hr_integration-TE1002-expired');
      await row('TE1002').getByLabel('CSR file for TE1002').setInputFiles(made.csrPath);
      await expire();
      await follow(row('TE1002').getByRole('button', { name: 'Upload CSR for TE1002' }));

      expect(new URL(page.url()).pathname).toBe('/login');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
      expect((await page.getByRole('alert').textContent())?.trim()).toBe(
        'Your session expired (or was signed out); sign in again — then upload the CSR again: it was not uploaded.',
      );
      await shoot('session-expired-login.png');
      expect((await lines())[0]?.request).toBeUndefined(); // the CSR was not uploaded

      await signIn();
      const back = new URL(page.url());
      expect(back.pathname).toBe(TAB);
      expect(back.hash).toBe('#notice');
      expect((await page.locator('#notice').textContent())?.trim()).toBe(
        'Your session had expired: the CSR for TE1002 was not uploaded. Choose the file and upload it again.',
      );
      await shoot('session-expired-tab.png');
    },
  );

  it('keeps the message and the way back through a wrong token on the sign-in page', async () => {
    await page.goto(`${web.url}${TAB}`);
    await dropCookie();
    await page.getByLabel('Customer code').fill('TE1234');
    await follow(page.getByRole('button', { name: 'Add new environment' }));
    const message =
      'Your session expired (or was signed out); sign in again — then add the environment again: it was not added.';
    expect((await page.locator('.notice').textContent())?.trim()).toBe(message);

    await page.getByLabel('Supplier token').fill('ons_not-a-real-token');
    await follow(page.getByRole('button', { name: 'Sign in' }));
    expect(await page.locator('.notice').textContent()).toContain(message);
    await signIn();
    expect(new URL(page.url()).pathname).toBe(TAB);
    expect((await page.locator('#notice').textContent())?.trim()).toBe(
      'Your session had expired: the environment was not added. Add it again.',
    );
    expect((await lines()).map((line) => line.customerCode)).toEqual(['TE1002']);
  });

  it('then uploads the CSR again, signed in: it is signed', async () => {
    const made = await makeCsr('hr_integration-TE1002-again');
    await row('TE1002').getByLabel('CSR file for TE1002').setInputFiles(made.csrPath);
    await follow(row('TE1002').getByRole('button', { name: 'Upload CSR for TE1002' }));
    expect(await page.locator('#notice').textContent()).toContain('The CSR for TE1002 was signed');
    expect((await lines())[0]?.request?.state).toBe('signed');
  });

  it('a disable sent with an expired session changes nothing and says to send it again', async () => {
    await page.goto(`${web.url}${TAB}`);
    const line = row('TE1002');
    await line.getByText('Disable…').click();
    await line.getByLabel('Why is it disabled?').fill('the key was mailed to a third party');
    await line.getByLabel('I understand this certificate stops working').check();
    await expireCookie();
    await follow(line.getByRole('button', { name: 'Disable certificate' }));
    expect((await page.getByRole('alert').textContent())?.trim()).toBe(
      'Your session expired (or was signed out); sign in again — then disable or enable the certificate again: it was not changed.',
    );
    expect((await lines())[0]?.certificate?.enabled).toBe(true);
    await signIn();
    expect(new URL(page.url()).pathname).toBe(TAB);
    expect((await page.locator('#notice').textContent())?.trim()).toBe(
      'Your session had expired: the certificate of TE1002 was not changed. Disable or enable it again.',
    );
  });
});
