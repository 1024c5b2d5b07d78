import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openssl, tempDir } from '../helpers/fixtures.ts';
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
} from '../helpers/github.ts';
import { makeCsr } from '../helpers/services.ts';

type Line = {
  customerCode: string;
  request?: { id: string; state: string };
  certificate?: { serial: string; fingerprintSha256: string };
};

let bot: BotHarness;
let supplierToken: string;
const LINES = '/api/connectors/hr_integration/versions/1.0/environments';

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  github.token();
  bot = await startBot();
  const supplier = await bot.call<{ token: string }>('POST', '/api/admin/suppliers', ADMIN, {
    name: 'Example Software',
    email: 'pki@example.com',
    githubLogins: ['supplier-dev', 'supplier-ops'],
  });
  supplierToken = supplier.json.token;
  await bot.call('POST', '/api/connectors', supplierToken, { technicalName: 'hr_integration', name: 'HR' });
  await bot.call('POST', '/api/connectors/hr_integration/versions', supplierToken, { version: '1.0' });
  await bot.call('POST', '/api/admin/connectors/hr_integration/versions/1.0/approve', ADMIN);
}, 60_000);

afterAll(async () => {
  await bot?.close();
  nock.cleanAll();
  nock.enableNetConnect();
});

afterEach(() => {
  // Every expected GitHub call was made, and nothing else is left pending for the next test.
  const pending = nock.pendingMocks().filter((m) => !m.includes('access_tokens'));
  nock.cleanAll();
  github.token();
  expect(pending).toEqual([]);
});

async function verifyPem(pem: string): Promise<string> {
  const dir = await tempDir();
  const ca = await (await fetch(`${bot.url}/ca.pem`)).text();
  await writeFile(join(dir, 'ca.pem'), ca);
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

function pemIn(body: string): string {
  const match = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(body);
  if (!match) throw new Error(`no PEM in ${body}`);
  return `${match[0]}\n`;
}

describe('a ticket from request to certificate', () => {
  it.each([
    ['staging', 'TE1234', 11],
    ['production', 'CF1234', 12],
  ])(
    '%s: asks the approvers, signs on /approve, posts the PEM, labels and closes',
    async (_kind, code, number) => {
      const { csr } = await makeCsr(`hr_integration-${code}-ticket`);
      const asked: string[] = [];
      const config = github.config(APPROVERS_YAML);
      const request = github.comment(number, (body) => {
        asked.push(body);
        return body.includes('ons-certs:approval-request:');
      });
      const awaiting = github.labels(number, ['awaiting-approval']);
      const issue = {
        number,
        body: ticketBody({ connector: 'hr_integration', version: '1.0', customerCode: code, csr }),
      };
      const response = await bot.deliver('issues', issueEvent('opened', issue));
      expect(response.status).toBe(200);
      await eventually(() => expect(request.isDone() && awaiting.isDone() && config.isDone()).toBe(true));
      expect(asked[0]).toContain('@alice');
      expect(asked[0]).toContain('@zorggroep-oost/certificate-approvers');
      expect(asked[0]).toContain('Zorggroep Oost');

      const lines = await bot.call<Line[]>('GET', LINES, supplierToken);
      const line = lines.json.find((l) => l.customerCode === code);
      expect(line?.request?.state).toBe('awaiting_approval');

      const posted: string[] = [];
      const config2 = github.config(APPROVERS_YAML);
      const approved = github.comment(number, (body) => {
        posted.push(body);
        return body.includes('ons-certs:approved:');
      });
      const reaction = github.reaction(9000 + number);
      const label = github.labels(number, ['approved']);
      const unlabel = github.removeLabel(number, 'awaiting-approval');
      const close = github.close(number, 'completed');
      const approve = await bot.deliver(
        'issue_comment',
        commentEvent(
          { ...issue, labels: ['certificate-approval', 'awaiting-approval'] },
          { id: 9000 + number, body: '/approve', user: { login: 'alice', id: 7001 } },
        ),
      );
      expect(approve.status).toBe(200);
      await eventually(() =>
        expect([config2, approved, reaction, label, unlabel, close].every((s) => s.isDone())).toBe(true),
      );
      const pem = pemIn(posted[0] ?? '');
      expect(await verifyPem(pem)).toContain('OK');
      expect(posted[0]).toContain('alice');

      const after = await bot.call<Line[]>('GET', LINES, supplierToken);
      const signed = after.json.find((l) => l.customerCode === code);
      expect(signed?.request?.state).toBe('signed');
      expect(posted[0]).toContain(signed?.certificate?.serial);
    },
  );
});
