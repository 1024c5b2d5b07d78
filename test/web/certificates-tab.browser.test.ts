import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsr } from '../../src/ca/parse-csr.ts';
import { judgeCsr } from '../../src/core/csr-policy.ts';
import { artifact, launchBrowser } from '../helpers/browser.ts';
import { csrPath, openssl, readCsr, tempDir } from '../helpers/fixtures.ts';
import { makeCsr } from '../helpers/services.ts';
import { startWebService, WEB_ADMIN_TOKEN, type WebService } from '../helpers/web.ts';

const V1 = '/connectors/hr_integration/versions/1.0';
const V2 = '/connectors/hr_integration/versions/2.0';
type Line = { customerCode: string; certificate?: { serial: string; enabled: boolean } };

describe('the certificates tab in a browser (Debian chromium, headless)', () => {
  let web: WebService;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let token = '';
  let developmentKey = '';

  const row = (code: string) => page.locator(`#line-${code}`);
  const shoot = (name: string) => page.screenshot({ path: artifact(name), fullPage: true });
  /** Clicks what submits a form or follows a link, and waits for the page it leads to. */
  const follow = async (target: Locator) => {
    await Promise.all([page.waitForNavigation(), target.click()]);
  };
  const addLine = async (code: string) => {
    await page.getByLabel('Customer code').fill(code);
    await follow(page.getByRole('button', { name: 'Add new environment' }));
  };
  const upload = async (code: string, file: string) => {
    await row(code).getByLabel(`CSR file for ${code}`).setInputFiles(file);
    await follow(row(code).getByRole('button', { name: `Upload CSR for ${code}` }));
  };
  const lines = async (version: string) =>
    (await web.api<Line[]>(token, 'GET', `/api/connectors/hr_integration/versions/${version}/environments`))
      .json;

  beforeAll(async () => {
    web = await startWebService({ SUPPORT_REPO: 'nedap-ons/support' });
    browser = await launchBrowser();
    token = await web.addSupplier('Example Software B.V.');
    await web.api(token, 'POST', '/api/connectors', {
      technicalName: 'hr_integration',
      name: 'HR integration',
    });
    for (const version of ['1.0', '2.0']) {
      await web.api(token, 'POST', '/api/connectors/hr_integration/versions', { version });
    }
    const approve = '/api/admin/connectors/hr_integration/versions/2.0/approve';
    expect((await web.api(WEB_ADMIN_TOKEN, 'POST', approve)).status).toBe(200);
    context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await web?.close();
  });

  it('signs in with the supplier token (a wrong one is refused and not shown again)', async () => {
    await page.goto(`${web.url}${V1}`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    await shoot('login.png');

    await page.getByLabel('Supplier token').fill('ons_not-a-real-token');
    await follow(page.getByRole('button', { name: 'Sign in' }));
    expect(await page.getByRole('alert').textContent()).toContain('not a supplier token we know');
    expect(await page.getByLabel('Supplier token').inputValue()).toBe('');
    expect(await page.content()).not.toContain('ons_not-a-real-token');

    await page.getByLabel('Supplier token').fill(token);
    await follow(page.getByRole('button', { name: 'Sign in' }));
    // Back where the supplier wanted to go before signing in.
    expect(new URL(page.url()).pathname).toBe(V1);
    expect(await page.getByText('Signed in as Example Software B.V.').count()).toBe(1);
  });

  it('lists the connectors and their versions with their state, down to the certificates tab', async () => {
    await page.goto(`${web.url}/connectors`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your connectors');
    await follow(page.getByRole('link', { name: 'HR integration' }));
    const states = await page
      .locator('table.simple tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [...r.querySelectorAll('th, td')].slice(0, 2).map((c) => c.textContent?.trim())),
      );
    expect(states).toEqual([
      ['Version 1.0 certificates', 'Editable'],
      ['Version 2.0 certificates', 'Approved'],
    ]);
    await follow(page.getByRole('link', { name: 'Version 1.0 certificates' }));
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('HR integration version 1.0');
    expect(
      await page.getByRole('link', { name: 'Certificates', exact: true }).getAttribute('aria-current'),
    ).toBe('page');
    await shoot('tab-empty.png');
  });

  it('adds TE1002, uploads an OpenSSL-made CSR through the file input and sees the row signed', async () => {
    await addLine(' te1002 ');
    expect(await page.locator('#notice').textContent()).toContain('TE1002 was added');
    expect(await row('TE1002').locator('.status').textContent()).toBe('No CSR uploaded yet');

    const made = await makeCsr('hr_integration-TE1002-browser');
    developmentKey = made.keyPath;
    await upload('TE1002', made.csrPath);
    expect(await page.locator('#notice').textContent()).toContain('The CSR for TE1002 was signed');
    expect(await row('TE1002').locator('.status').textContent()).toBe('Signed');
    expect(await row('TE1002').locator('.badge').textContent()).toBe('Enabled');
    expect(await row('TE1002').locator('.days').textContent()).toMatch(/^36[45] days left$/);
    expect(await row('TE1002').locator('.days').getAttribute('class')).toBe('days');
    await shoot('tab-signed.png');
  });

  it('downloads the PEM file, and OpenSSL verifies it as a client certificate of our CA for that key', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row('TE1002').getByRole('link', { name: 'Download PEM file for TE1002' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('hr_integration-TE1002-browser.pem');
    const dir = await tempDir();
    const certFile = join(dir, download.suggestedFilename());
    await download.saveAs(certFile);
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, await (await fetch(`${web.url}/ca.pem`)).text());

    const verified = await openssl(['verify', '-purpose', 'sslclient', '-CAfile', caFile, certFile]);
    expect(verified).toEqual({ code: 0, output: `${certFile}: OK\n` });
    const certKey = await openssl(['x509', '-in', certFile, '-noout', '-pubkey']);
    const ownKey = await openssl(['pkey', '-in', developmentKey, '-pubout']);
    expect(certKey.output).toBe(ownKey.output);
  });

  it('a bad CSR: the row lists every violation in words, and the signed certificate stays', async () => {
    await upload('TE1002', csrPath('many-violations.csr'));
    const expected = judgeCsr(parseCsr(await readCsr('many-violations.csr')), {
      minRsaBits: 2048,
      connector: 'hr_integration',
      customerCode: 'TE1002',
    }).violations;
    expect(expected.length).toBeGreaterThan(3);
    expect(await page.locator('#notice').textContent()).toContain('The CSR for TE1002 was refused');
    expect(await row('TE1002').locator('.status').textContent()).toBe(
      'Refused: the CSR does not meet the requirements',
    );
    const shown = await row('TE1002').getByRole('list', { name: 'What to fix in the CSR for TE1002' });
    expect(await shown.locator('li').allTextContents()).toEqual(
      expected.map((v) => `${v.message} (${v.code})`),
    );
    expect(await row('TE1002').getByRole('link', { name: 'Download PEM file for TE1002' }).count()).toBe(1);
    await shoot('tab-refused.png');
  });

  it('a file over 64 KiB: the browser shows the 413 page', async () => {
    const big = join(await tempDir(), 'photo.jpg');
    await writeFile(big, Buffer.alloc(80 * 1024, 0xff));
    await upload('TE1002', big);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('The file is too large');
    await page.goto(`${web.url}${V1}`);
  });

  it('a staging code on the editable version is not added, and the page says why', async () => {
    await addLine('TE1234');
    const alert = page.locator('#code-error');
    expect(await alert.getAttribute('role')).toBe('alert');
    const text = (await alert.textContent()) ?? '';
    expect(text).toContain('TE1234 is a staging code');
    expect(text).toContain('version 1.0 is still editable');
    expect(text).toContain('Why:');
    expect(await page.getByLabel('Customer code').inputValue()).toBe('TE1234');
    expect(await page.getByLabel('Customer code').getAttribute('aria-invalid')).toBe('true');
    expect(await row('TE1234').count()).toBe(0);
    await shoot('tab-version-not-approved.png');
  });

  it('disables the certificate with a reason and a confirmation, and enables it again', async () => {
    await page.goto(`${web.url}${V1}`);
    const line = row('TE1002');
    await line.getByText('Disable…').click();
    await line.getByLabel('Why is it disabled?').fill('the key was mailed to a third party');
    // Without the confirmation the browser does not send the form.
    await line.getByRole('button', { name: 'Disable certificate' }).click();
    expect(await line.getByLabel('I understand this certificate stops working').isChecked()).toBe(false);
    expect((await lines('1.0'))[0]?.certificate?.enabled).toBe(true);

    await line.getByLabel('I understand this certificate stops working').check();
    await follow(line.getByRole('button', { name: 'Disable certificate' }));
    expect(await page.locator('#notice').textContent()).toContain('The certificate of TE1002 is disabled');
    expect(await row('TE1002').locator('.badge').textContent()).toBe('Disabled');
    expect((await lines('1.0'))[0]?.certificate?.enabled).toBe(false);
    await shoot('tab-disabled.png');

    await row('TE1002').getByText('Enable again…').click();
    await row('TE1002').getByLabel('The private key is safe: this certificate may work again').check();
    await follow(row('TE1002').getByRole('button', { name: 'Enable certificate' }));
    expect(await row('TE1002').locator('.badge').textContent()).toBe('Enabled');
    expect((await lines('1.0'))[0]?.certificate?.enabled).toBe(true);
  });

  it('on the approved version, a staging line waits for approval with a prefilled ticket link', async () => {
    await page.goto(`${web.url}${V2}`);
    await addLine('TE1002');
    await upload('TE1002', (await makeCsr('hr_integration-TE1002-v2')).csrPath);
    await addLine('TE1234');
    await upload('TE1234', (await makeCsr('hr_integration-TE1234-staging')).csrPath);
    expect(await row('TE1234').locator('.status').textContent()).toBe(
      "Waiting for the organisation's approval",
    );
    await addLine('cf1234');
    await upload('CF1234', (await makeCsr('hr_integration-TE1234-wrong_code')).csrPath);
    expect(await row('CF1234').locator('.errors li').allTextContents()).toEqual([
      expect.stringContaining('(cn_customer_code_mismatch)'),
    ]);

    const href = await row('TE1234')
      .getByRole('link', { name: 'Open a support ticket for TE1234' })
      .getAttribute('href');
    const ticket = new URL(href!);
    expect(`${ticket.origin}${ticket.pathname}`).toBe('https://github.com/nedap-ons/support/issues/new');
    expect(Object.fromEntries(ticket.searchParams)).toEqual({
      template: 'certificate-approval.yml',
      title: 'Certificate approval: hr_integration 2.0 TE1234',
      connector: 'hr_integration',
      version: '2.0',
      customer_code: 'TE1234',
    });
    expect(
      await row('TE1002')
        .getByRole('link', { name: /Open a support ticket/ })
        .count(),
    ).toBe(0);
    await page.goto(`${web.url}${V2}`);
    // The README's screenshot: a signed, a waiting and a refused line.
    await shoot('certificates-tab.png');
  });

  it('is readable on a phone: rows become labelled cards, nothing scrolls sideways', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      const cookies = await context.cookies();
      await phone.addCookies(cookies);
      const small = await phone.newPage();
      await small.goto(`${web.url}${V2}`);
      // Expressions, not functions: they run in the page, whose DOM types the tests do not load.
      const [scrolled, visible] = await small.evaluate<number[]>(
        '[document.documentElement.scrollWidth, window.innerWidth]',
      );
      expect(scrolled).toBeLessThanOrEqual(visible!);
      await small.screenshot({ path: artifact('tab-phone.png'), fullPage: true });
    } finally {
      await phone.close();
    }
  });

  it('keyboard: the skip link comes first, then the header, the breadcrumbs and the tab', async () => {
    await page.goto(`${web.url}${V1}`);
    const focused = async () => {
      await page.keyboard.press('Tab');
      return page.evaluate<string | undefined>('document.activeElement?.textContent?.trim()');
    };
    expect(await focused()).toBe('Skip to the content');
    expect(await focused()).toContain('ons-certs');
    expect(await focused()).toBe('Sign out');
    expect(await focused()).toBe('Connectors');
    expect(await focused()).toBe('HR integration');
    expect(await focused()).toBe('Certificates');
  });

  it("a ticket comment's link from another site opens the tab signed in (SameSite=Strict)", async () => {
    const elsewhere = await linkPage(`${web.url}${V1}`);
    try {
      const port = (elsewhere.address() as AddressInfo).port;
      const arrivals: Promise<string | undefined>[] = [];
      const record = (request: Request) => {
        if (request.url() === `${web.url}${V1}`) {
          arrivals.push(request.allHeaders().then((headers) => headers['sec-fetch-site']));
        }
      };
      page.on('request', record);
      // localhost and 127.0.0.1 are different sites: the link is a cross-site navigation.
      await page.goto(`http://localhost:${port}/`);
      await follow(page.getByRole('link', { name: 'the dashboard' }));
      await page.locator('h1', { hasText: 'HR integration' }).waitFor();
      page.off('request', record);
      expect(await row('TE1002').count()).toBe(1);
      // Arrived without the cookie, then loaded again from our own page, with it.
      expect(await Promise.all(arrivals)).toEqual(['cross-site', 'same-origin']);
    } finally {
      await new Promise((resolve) => elsewhere.close(resolve));
    }
  });

  it('signs out; the tab then asks to sign in again', async () => {
    await page.goto(`${web.url}${V1}`);
    await follow(page.getByRole('button', { name: 'Sign out' }));
    expect(await page.getByRole('status').textContent()).toContain('You are signed out.');
    await page.goto(`${web.url}${V1}`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });
});

/** A page on another site (as a GitHub ticket comment is) with a link to `target`. */
async function linkPage(target: string): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>Ticket</title><p>See <a href="${target}">the dashboard</a>.</p>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
