import type { Browser, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifact, launchBrowser } from '../helpers/browser.ts';
import { startWebService, WEB_ADMIN_TOKEN, type WebService } from '../helpers/web.ts';

describe('the queue board in a browser (Debian chromium, headless), as Nedap support opens it', () => {
  let web: WebService;
  let browser: Browser;

  beforeAll(async () => {
    web = await startWebService();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
  });

  it('shows the five queues under the content security policy, and asks no other host for anything', async () => {
    // The token typed as the password of the browser's sign-in prompt.
    const context = await browser.newContext({
      httpCredentials: { username: 'support', password: WEB_ADMIN_TOKEN },
      viewport: { width: 1280, height: 900 },
    });
    try {
      const page = await context.newPage();
      const finished: string[] = [];
      const failed: { url: string; why: string }[] = [];
      page.on('requestfinished', (request: Request) => finished.push(request.url()));
      page.on('requestfailed', (request: Request) =>
        failed.push({ url: request.url(), why: request.failure()?.errorText ?? '' }),
      );

      const response = await page.goto(`${web.url}/admin/queues`);
      expect(response?.status()).toBe(200);
      for (const name of ['approvals', 'signing', 'github', 'mail', 'maintenance']) {
        await page.getByText(name, { exact: true }).first().waitFor({ timeout: 15_000 });
      }
      await page.screenshot({ path: artifact('queue-board.png'), fullPage: true });

      expect(finished.length).toBeGreaterThan(1);
      expect(finished.filter((url) => !url.startsWith(web.url))).toEqual([]);
      // The page's link to a font host is refused by the browser itself, not merely unanswered.
      const elsewhere = failed.filter(({ url }) => !url.startsWith(web.url));
      expect(elsewhere.map(({ url }) => new URL(url).host)).toEqual(['fonts.googleapis.com']);
      expect(elsewhere.map(({ why }) => why)).toEqual(['csp']);
    } finally {
      await context.close();
    }
  });
});
