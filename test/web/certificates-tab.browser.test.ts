import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsr } from '../../src/ca/parse-csr.ts';
import { judgeCsr, opensslCommand } from '../../src/core/csr-policy.ts';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { approveRequest } from '../../src/services/decide-request.ts';
import { attachTicket } from '../../src/services/tickets.ts';
import { uploadCsr } from '../../src/services/upload-csr.ts';
import { artifact, launchBrowser } from '../helpers/browser.ts';
import { csrPath, openssl, readCsr, ROOT, tempDir } from '../helpers/fixtures.ts';
import { makeCsr, testContext } from '../helpers/services.ts';
import { startWebService, WEB_ADMIN_TOKEN, type WebService } from '../helpers/web.ts';

const V1 = '/connectors/hr_integration/versions/1.0';
const V2 = '/connectors/hr_integration/versions/2.0';
const V3 = '/connectors/hr_integration/versions/3.0';
const DAY = 24 * 3600 * 1000;
type Line = {
  customerCode: string;
  request?: { id: string; state: string };
  certificate?: { serial: string; enabled: boolean };
  certificates?: { serial: string; enabled: boolean; current: boolean; disabled?: { by?: string } }[];
};
/**
 * The README's screenshots, 1000 px wide: into docs/screenshots (committed) with
 * UPDATE_SCREENSHOTS=1, else beside the others in test/artifacts (a test run changes no tracked file).
 */
const readmeShot = (name: string) =>
  process.env['UPDATE_SCREENSHOTS'] === '1'
    ? join(ROOT, 'docs/screenshots', name)
    : artifact(`readme-${name}`);

describe('the certificates tab in a browser (Debian chromium, headless)', () => {
  let web: WebService;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let token = '';
  let developmentKey = '';
  let handle: DatabaseHandle;
  let ctx: ServiceContext;

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
    for (const version of ['1.0', '2.0', '3.0']) {
      await web.api(token, 'POST', '/api/connectors/hr_integration/versions', { version });
    }
    const approve = '/api/admin/connectors/hr_integration/versions/2.0/approve';
    expect((await web.api(WEB_ADMIN_TOKEN, 'POST', approve)).status).toBe(200);
    context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1000, height: 800 } });
    page = await context.newPage();
    // The approver's side and a clock set back, on the service's own database.
    handle = await openDatabase({ url: web.databaseUrl });
    ctx = await testContext(handle, { minRsaBits: 2048 });
  });

  afterAll(async () => {
    await handle?.close();
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
      ['Version 3.0 certificates', 'Editable'],
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
    // Each violation once, in words; the openssl command that several of them suggest is shown
    // once, under them, with this line's CN filled in (the API's messages keep it inline).
    const command = opensslCommand({ minRsaBits: 2048, connector: 'hr_integration', customerCode: 'TE1002' });
    expect(expected.filter((v) => v.message.includes(command)).length).toBeGreaterThan(0);
    const shown = row('TE1002').getByRole('list', { name: 'What to fix in the CSR for TE1002' });
    expect(await shown.locator('li').allTextContents()).toEqual(
      expected.map((v) => `${v.message.split(command).join('the command below')} (${v.code})`),
    );
    expect((await shown.textContent()) ?? '').not.toContain('openssl req -new');
    const block = row('TE1002').locator('pre.command');
    expect(await block.count()).toBe(1);
    expect(await block.textContent()).toBe(command);
    expect(command).toContain('/CN=hr_integration-TE1002-<identification>/');
    // Broken only at spaces: the subject, the longest word, stays on one line of the block.
    const subjectLines = await page.evaluate<number>(`(() => {
      const code = document.querySelector('#line-TE1002 pre.command code');
      const text = [...code.querySelectorAll('.word')].find((w) => w.textContent.startsWith('"/CN=')).firstChild;
      const range = document.createRange();
      range.setStart(text, 0);
      range.setEnd(text, text.data.length);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    })()`);
    expect(subjectLines).toBe(1);
    expect(await row('TE1002').getByRole('link', { name: 'Download PEM file for TE1002' }).count()).toBe(1);
    await page.locator('#lines-heading').scrollIntoViewIfNeeded();
    await page.screenshot({ path: readmeShot('tab-refused.png'), fullPage: true });
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
    // Why, who (the supplier's name, not its id) and when, under the badge.
    const said = (await row('TE1002').locator('.disabled-by').textContent()) ?? '';
    expect(said).toMatch(
      /^Disabled by Example Software B\.V\. on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: “the key was mailed to a third party”$/,
    );
    expect(await page.content()).not.toContain('supplier:');
    expect((await lines('1.0'))[0]?.certificate?.enabled).toBe(false);
    await shoot('tab-disabled.png');

    await row('TE1002').getByText('Enable again…').click();
    await row('TE1002').getByLabel('The private key is safe: this certificate may work again').check();
    await follow(row('TE1002').getByRole('button', { name: 'Enable certificate' }));
    expect(await row('TE1002').locator('.badge').textContent()).toBe('Enabled');
    expect((await lines('1.0'))[0]?.certificate?.enabled).toBe(true);
  });

  it('on the approved version: after an upload the row says to open the ticket, then that it waits on ticket #N', async () => {
    await page.goto(`${web.url}${V2}`);
    await addLine('TE1002');
    await upload('TE1002', (await makeCsr('hr_integration-TE1002-v2')).csrPath);
    await addLine('TE1234');
    expect(
      await row('TE1234')
        .getByRole('link', { name: /Open a support ticket/ })
        .count(),
    ).toBe(0);
    await upload('TE1234', (await makeCsr('hr_integration-TE1234-staging')).csrPath);
    // No ticket yet: nobody was asked, so the next step is the supplier's.
    expect(await row('TE1234').locator('.status').textContent()).toBe(
      'CSR accepted: next, open the support ticket',
    );
    expect(await page.locator('#notice').textContent()).toContain(
      'The CSR for TE1234 meets the requirements. Next: open the support ticket',
    );
    await addLine('cf1234');
    await upload('CF1234', (await makeCsr('hr_integration-TE1234-wrong_code')).csrPath);
    expect(await row('CF1234').locator('.errors li').allTextContents()).toEqual([
      expect.stringContaining('(cn_customer_code_mismatch)'),
    ]);
    // A refused CSR has nothing for the organisation to approve: no ticket link.
    expect(
      await row('CF1234')
        .getByRole('link', { name: /Open a support ticket/ })
        .count(),
    ).toBe(0);

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

    // The bot took the ticket (as intake does): the row now names it and links it.
    const waiting = (await lines('2.0')).find((l) => l.customerCode === 'TE1234')!.request!;
    await attachTicket(ctx, waiting.id, { owner: 'nedap-ons', repo: 'support', number: 12 });
    await page.goto(`${web.url}${V2}`);
    expect(await row('TE1234').locator('.status').textContent()).toBe(
      "Waiting for the organisation's approval on ticket #12",
    );
    expect(await row('TE1234').getByRole('link', { name: '#12' }).getAttribute('href')).toBe(
      'https://github.com/nedap-ons/support/issues/12',
    );
    expect(
      await row('TE1234')
        .getByRole('link', { name: /Open a support ticket/ })
        .count(),
    ).toBe(0);
    // The README's screenshot: a signed, a waiting and a refused line.
    await shoot('certificates-tab.png');
    await page.screenshot({ path: readmeShot('certificates-tab.png'), fullPage: true });
  });

  it('after a renewal both certificates are listed, each with its own switch; disabling the old one says who', async () => {
    const waiting = (await lines('2.0')).find((l) => l.customerCode === 'TE1234')!.request!;
    const approver = { kind: 'approver' as const, login: 'alice-approver', githubId: 42 };
    expect((await approveRequest(ctx, approver, waiting.id)).ok).toBe(true);
    await page.goto(`${web.url}${V2}`);
    expect(await row('TE1234').locator('.renewal').textContent()).toContain(
      "it is signed at once on the organisation's consent for this line, without a new ticket",
    );
    await upload('TE1234', (await makeCsr('hr_integration-TE1234-renewed')).csrPath);
    expect(await page.locator('#notice').textContent()).toContain('The CSR for TE1234 was signed');

    const blocks = row('TE1234').locator('.certificate');
    expect(await blocks.locator('.which').allTextContents()).toEqual([
      'Current certificate',
      'Earlier certificate, still valid',
    ]);
    expect(await blocks.locator('.badge').allTextContents()).toEqual(['Enabled', 'Enabled']);
    const [current, earlier] = (await lines('2.0')).find((l) => l.customerCode === 'TE1234')!.certificates!;
    expect(await blocks.locator('code.serial').allTextContents()).toEqual([current!.serial, earlier!.serial]);

    const old = blocks.nth(1);
    await old.getByText('Disable…').click();
    await old.getByLabel('Why is it disabled?').fill('replaced; its key stays on the old server');
    await old.getByLabel('I understand this certificate stops working').check();
    await follow(old.getByRole('button', { name: 'Disable certificate' }));
    expect(await page.locator('#notice').textContent()).toBe(
      `The earlier certificate ${earlier!.serial} of TE1234 is disabled.`,
    );
    expect(await row('TE1234').locator('.certificate .badge').allTextContents()).toEqual([
      'Enabled',
      'Disabled',
    ]);
    expect(await row('TE1234').locator('.certificate.earlier .disabled-by').textContent()).toMatch(
      /^Disabled by Example Software B\.V\. on .+ UTC: “replaced; its key stays on the old server”$/,
    );
    const listed = (await lines('2.0')).find((l) => l.customerCode === 'TE1234')!;
    expect(listed.certificates!.map((c) => [c.current, c.enabled, c.disabled?.by])).toEqual([
      [true, true, undefined],
      [false, false, 'Example Software B.V.'],
    ]);
    await row('TE1234').scrollIntoViewIfNeeded();
    await page.screenshot({ path: readmeShot('tab-renewed.png'), fullPage: true });
  });

  it('says "renew soon" and "renew now" under REMINDER_DAYS, and from when to renew before that', async () => {
    // A real certificate signed 340 days ago (a clock set back), on version 3.0's TE1002.
    await page.goto(`${web.url}${V3}`);
    await addLine('TE1002');
    const then = { ...ctx, now: () => new Date(Date.now() - 340 * DAY) };
    const { csr } = await makeCsr('hr_integration-TE1002-old');
    const where = { technicalName: 'hr_integration', version: '3.0', customerCode: 'TE1002' };
    expect((await uploadCsr(then, { kind: 'admin' }, where, csr)).ok).toBe(true);
    await page.goto(`${web.url}${V3}`);
    expect(await row('TE1002').locator('.days').textContent()).toMatch(/^2[45] days left: renew soon$/);
    expect(await row('TE1002').locator('.renewal').textContent()).toMatch(
      /^Renew now, before \d{4}-\d\d-\d\d: upload a new CSR made with a new key .*; it is signed at once\.$/,
    );
    await page.goto(`${web.url}${V1}`);
    const notAfter = await row('TE1002').locator('.validity time').nth(1).getAttribute('datetime');
    const from = new Date(new Date(notAfter!).getTime() - 30 * DAY).toISOString().slice(0, 10);
    expect(await row('TE1002').locator('.renewal').textContent()).toContain(
      `Renew from ${from} (30 days before it expires, when this row says "renew soon" and a reminder is e-mailed)`,
    );
  });

  it('deletes a mistyped line (confirmed, with the CSRF token); a line with a certificate has no such button', async () => {
    await page.goto(`${web.url}${V2}`);
    await addLine('TE0009');
    // Development, staging, production, then by code: TE0009 comes before TE1234.
    const codes = await page.locator('tbody.line th').allTextContents();
    expect(codes).toEqual(['TE1002', 'TE0009', 'TE1234', 'CF1234']);
    expect(await row('TE0009').getByText('No certificate yet').count()).toBe(1);
    expect(await row('TE1002').getByText('Delete this line…').count()).toBe(0);
    expect(await row('TE1234').getByText('Delete this line…').count()).toBe(0);

    await row('TE0009').getByText('Delete this line…').click();
    // Without the confirmation the browser does not send the form.
    await row('TE0009').getByRole('button', { name: 'Delete TE0009' }).click();
    expect(await row('TE0009').count()).toBe(1);
    await row('TE0009').getByLabel('TE0009 was added by mistake').check();
    await follow(row('TE0009').getByRole('button', { name: 'Delete TE0009' }));
    expect(await page.locator('#notice').textContent()).toBe('TE0009 was deleted.');
    expect(await row('TE0009').count()).toBe(0);
    expect((await lines('2.0')).map((l) => l.customerCode)).toEqual(['TE1002', 'TE1234', 'CF1234']);
  });

  it('small things: one-line switches and serials, one "No certificate yet", no outline on a notice, the label by its field, the code echoed as typed', async () => {
    await page.goto(`${web.url}${V2}?done=added&line=TE1234#notice`);
    const summary = row('TE1002').locator('summary').first();
    const lineHeight = await page.evaluate<number>(
      'parseFloat(getComputedStyle(document.querySelector("#line-TE1002 summary")).lineHeight)',
    );
    expect((await summary.boundingBox())!.height).toBeLessThan(lineHeight * 1.5);
    const serialLines = await page.evaluate<number>(
      '[...document.querySelector("#line-TE1002 code.serial").getClientRects()].length',
    );
    expect(serialLines).toBe(1);
    expect(await row('CF1234').getByText('No certificate yet').count()).toBe(1);
    expect(await page.evaluate<string>('document.activeElement && document.activeElement.id')).toBe('notice');
    expect(
      await page.evaluate<string>('getComputedStyle(document.querySelector("#notice")).outlineStyle'),
    ).toBe('none');

    const label = (await page.locator('label[for="customerCode"]').boundingBox())!;
    const input = (await page.getByLabel('Customer code').boundingBox())!;
    expect(input.y - (label.y + label.height)).toBeGreaterThanOrEqual(0);
    expect(input.y - (label.y + label.height)).toBeLessThan(16);

    await addLine('xx12');
    expect(await page.locator('#code-error').textContent()).toContain('"xx12" is not a customer code');
    expect(await page.getByLabel('Customer code').inputValue()).toBe('xx12');
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
