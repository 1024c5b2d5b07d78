import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nock from 'nock';
import { expect } from 'vitest';
import { openssl, tempDir } from './fixtures.ts';
import {
  ADMIN,
  APPROVERS_YAML,
  commentEvent,
  eventually,
  github,
  issueEvent,
  startBot,
  ticketBody,
  type BotHarness,
  type IssueShape,
} from './github.ts';
import { makeCsr } from './services.ts';

export type Line = {
  customerCode: string;
  request?: { id: string; state: string };
  certificate?: { serial: string; fingerprintSha256: string; enabled: boolean };
};

export const LINES = '/api/connectors/hr_integration/versions/1.0/environments';

/** A running bot with one supplier (GitHub logins supplier-dev and supplier-ops) and an approved version. */
export interface BotWorld {
  bot: BotHarness;
  supplierToken: string;
  lines(): Promise<Line[]>;
  line(code: string): Promise<Line | undefined>;
  /** Opens a ticket for `code` with a fresh CSR and waits until the approvers were asked. */
  openTicket(number: number, code: string, yaml?: string): Promise<{ issue: IssueShape; asked: string }>;
  /** Posts a comment on a ticket; returns the HTTP answer to the delivery. */
  comment(
    issue: IssueShape,
    id: number,
    body: string,
    user: { login: string; id: number; type?: string },
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function startBotWorld(options: Parameters<typeof startBot>[0] = {}): Promise<BotWorld> {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  github.token();
  const bot = await startBot(options);
  const supplier = await bot.call<{ token: string }>('POST', '/api/admin/suppliers', ADMIN, {
    name: 'Example Software',
    email: 'pki@example.com',
    githubLogins: ['supplier-dev', 'supplier-ops'],
  });
  const supplierToken = supplier.json.token;
  await bot.call('POST', '/api/connectors', supplierToken, { technicalName: 'hr_integration', name: 'HR' });
  await bot.call('POST', '/api/connectors/hr_integration/versions', supplierToken, { version: '1.0' });
  await bot.call('POST', '/api/admin/connectors/hr_integration/versions/1.0/approve', ADMIN);
  const lines = async () => (await bot.call<Line[]>('GET', LINES, supplierToken)).json;
  return {
    bot,
    supplierToken,
    lines,
    line: async (code) => (await lines()).find((l) => l.customerCode === code),
    async openTicket(number, code, yaml = APPROVERS_YAML) {
      const { csr } = await makeCsr(`hr_integration-${code}-ticket${number}`);
      let asked = '';
      const scopes = [
        github.config(yaml),
        github.comment(number, (body) => {
          asked = body;
          return body.includes('ons-certs:approval-request:');
        }),
        github.labels(number, ['awaiting-approval']),
      ];
      const issue = {
        number,
        body: ticketBody({ connector: 'hr_integration', version: '1.0', customerCode: code, csr }),
      };
      expect((await bot.deliver('issues', issueEvent('opened', issue))).status).toBe(200);
      await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true));
      return { issue: { ...issue, labels: ['certificate-approval', 'awaiting-approval'] }, asked };
    },
    comment: (issue, id, body, user) => bot.deliver('issue_comment', commentEvent(issue, { id, body, user })),
    close: async () => {
      await bot.close();
      nock.cleanAll();
      nock.enableNetConnect();
    },
  };
}

/** GitHub calls nobody expected (nock refuses them; the bot would retry them). */
const unexpected: string[] = [];
nock.emitter.on('no match', (req: { method?: string; href?: string; path?: string }) => {
  unexpected.push(`${req.method ?? ''} ${req.href ?? req.path ?? ''}`);
});

/**
 * Fails the test when an expected GitHub call was not made or an unexpected one was tried;
 * resets nock for the next test.
 */
export function assertGitHubDone(): void {
  const pending = nock.pendingMocks().filter((m) => !m.includes('access_tokens'));
  const tried = unexpected.splice(0).filter((u) => !u.includes('127.0.0.1'));
  nock.cleanAll();
  github.token();
  expect(pending).toEqual([]);
  expect(tried).toEqual([]);
}

/** Waits a little to make sure nothing else reaches GitHub (nock refuses unexpected calls). */
export async function quietFor(ms = 500): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** `openssl verify -purpose sslclient` of a PEM against the service's /ca.pem. */
export async function verifyAgainstCa(baseUrl: string, pem: string): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, 'ca.pem'), await (await fetch(`${baseUrl}/ca.pem`)).text());
  await writeFile(join(dir, 'cert.pem'), pem);
  const result = await openssl([
    'verify',
    '-purpose',
    'sslclient',
    '-CAfile',
    join(dir, 'ca.pem'),
    join(dir, 'cert.pem'),
  ]);
  return result.output;
}

export function pemIn(body: string): string {
  const match = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(body);
  if (!match) throw new Error(`no PEM in ${body}`);
  return `${match[0]}\n`;
}
