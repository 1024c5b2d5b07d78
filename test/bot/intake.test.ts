import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertGitHubDone, quietFor, startBotWorld, type BotWorld } from '../helpers/bot-world.ts';
import { CSR_DIR } from '../helpers/fixtures.ts';
import { APPROVERS_YAML, eventually, github, issueEvent, ticketBody } from '../helpers/github.ts';
import { makeCsr } from '../helpers/services.ts';

let world: BotWorld;

beforeAll(async () => {
  world = await startBotWorld();
  await world.bot.call('POST', '/api/connectors/hr_integration/versions', world.supplierToken, {
    version: '2.0',
  });
}, 60_000);
afterAll(async () => world?.close());
afterEach(assertGitHubDone);

/** Delivers `issues.opened` and waits for the one comment whose body passes `check`. */
async function expectReply(
  number: number,
  body: string,
  check: (body: string) => boolean,
  labels: string[] | undefined,
  extra: { config?: string | null; author?: { login: string; id: number }; statusComment?: boolean } = {},
): Promise<string> {
  let posted = '';
  const scopes = [
    ...(extra.config === undefined ? [] : [github.config(extra.config ?? undefined)]),
    // A status comment (edited in place when the ticket changes) is looked for first.
    ...(extra.statusComment === false ? [] : [github.listComments(number)]),
    github.comment(number, (b) => {
      posted = b;
      return check(b);
    }),
    ...(labels ? [github.labels(number, labels)] : []),
  ];
  const event = issueEvent('opened', { number, body, ...(extra.author ? { author: extra.author } : {}) });
  expect((await world.bot.deliver('issues', event)).status).toBe(200);
  await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true));
  return posted;
}

const form = (fields: Parameters<typeof ticketBody>[0]) =>
  ticketBody({ connector: 'hr_integration', version: '1.0', ...fields });

describe('a ticket the bot cannot ask approval for', () => {
  it('a development code: told that development certificates are signed in the dashboard', async () => {
    const posted = await expectReply(
      41,
      form({ customerCode: 'te1002' }),
      (b) => b.includes('ons-certs:development-code:41'),
      undefined,
    );
    expect(posted).toContain('TE1002');
    expect(posted).toContain('https://certs.example.com/connectors/hr_integration/versions/1.0');
  });

  it('an unknown connector', async () => {
    const posted = await expectReply(
      42,
      ticketBody({ connector: 'no_such_thing', version: '1.0', customerCode: 'TE1234' }),
      (b) => b.includes('ons-certs:needs-info:42'),
      ['needs-info'],
    );
    expect(posted).toContain('no\\_such\\_thing');
  });

  it('a version that Nedap has not approved', async () => {
    const posted = await expectReply(
      43,
      ticketBody({ connector: 'hr_integration', version: '2.0', customerCode: 'TE1234' }),
      (b) => b.includes('ons-certs:needs-info:43'),
      ['needs-info'],
    );
    expect(posted).toContain('not approved');
  });

  it('an author who is not registered for the supplier', async () => {
    const { csr } = await makeCsr('hr_integration-TE1234-stranger');
    const posted = await expectReply(
      44,
      form({ customerCode: 'TE1234', csr }),
      (b) => b.includes('ons-certs:author-not-registered:44'),
      ['needs-info'],
      { author: { login: 'stranger', id: 6666 }, statusComment: false },
    );
    expect(posted).toContain('stranger');
    expect(posted).toContain('Example Software');
  });

  it('an invalid CSR: every violation listed', async () => {
    const csr = await readFile(join(CSR_DIR, 'ec-key.csr'), 'utf8').catch(() => '');
    const weak = csr || (await makeCsr('wrong_connector-TE1234-x')).csr;
    const posted = await expectReply(
      45,
      form({ customerCode: 'TE1234', csr: weak }),
      (b) => b.includes('ons-certs:needs-info:45'),
      ['needs-info'],
    );
    expect(posted.match(/CSR: /g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  });

  it('fields missing from the form: each named', async () => {
    const posted = await expectReply(
      46,
      ticketBody({ connector: 'hr_integration', customerCode: 'TE1234' }),
      (b) => b.includes('ons-certs:needs-info:46'),
      ['needs-info'],
    );
    expect(posted).toContain('Version is empty');
  });

  it('no approvers file: a comment naming the missing file, label needs-config', async () => {
    const { csr } = await makeCsr('hr_integration-TE1234-nofile');
    const posted = await expectReply(
      47,
      form({ customerCode: 'TE1234', csr }),
      (b) => b.includes('ons-certs:broken-config:47'),
      ['needs-config'],
      { config: null },
    );
    expect(posted).toContain('.github/ons-certificates.yml');
    expect(posted).toContain('missing');
  });

  it('a broken approvers file: the problem named', async () => {
    const { csr } = await makeCsr('hr_integration-TE1234-broken');
    const posted = await expectReply(
      48,
      form({ customerCode: 'TE1234', csr }),
      (b) => b.includes('ons-certs:broken-config:48'),
      ['needs-config'],
      { config: 'organisations:\n  - name: X\n    customer_codes: [XX99]\n    approvers: [alice]\n' },
    );
    expect(posted).toContain('XX99');
  });

  it('a code no organisation lists: Nedap support is asked to add it', async () => {
    const { csr } = await makeCsr('hr_integration-TE9999-unlisted');
    const posted = await expectReply(
      49,
      form({ customerCode: 'TE9999', csr }),
      (b) => b.includes('ons-certs:needs-config:49'),
      ['needs-config'],
      { config: APPROVERS_YAML },
    );
    expect(posted).toContain('TE9999');
  });

  it('an issue that is not a certificate request is left alone', async () => {
    const event = issueEvent('opened', { number: 50, body: 'My printer is on fire', labels: ['bug'] });
    expect((await world.bot.deliver('issues', event)).status).toBe(200);
    await quietFor();
  });
});

describe('the same ticket again', () => {
  it('a redelivered webhook has no second effect', async () => {
    const { csr } = await makeCsr('hr_integration-CF1234-redelivered');
    const body = form({ customerCode: 'CF1234', csr });
    const scopes = [
      github.config(APPROVERS_YAML),
      github.comment(51, (b) => b.includes('ons-certs:approval-request:')),
      github.labels(51, ['awaiting-approval']),
    ];
    const event = issueEvent('opened', { number: 51, body });
    const first = await world.bot.deliver('issues', event, 'delivery-51');
    const again = await world.bot.deliver('issues', event, 'delivery-51');
    expect([first.status, again.status]).toEqual([200, 200]);
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true));
    await quietFor();
  });

  it('opened and labelled for one new ticket ask the approvers once', async () => {
    const { csr } = await makeCsr('hr_integration-TE1234-twice');
    const body = form({ customerCode: 'TE1234', csr });
    const scopes = [
      github.config(APPROVERS_YAML),
      github.config(APPROVERS_YAML),
      github.comment(52, (b) => b.includes('ons-certs:approval-request:')),
      github.labels(52, ['awaiting-approval']),
    ];
    await Promise.all([
      world.bot.deliver('issues', issueEvent('opened', { number: 52, body })),
      world.bot.deliver('issues', issueEvent('labeled', { number: 52, body })),
    ]);
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true));
    await quietFor();
    const lines = await world.line('TE1234');
    expect(lines?.request?.state).toBe('awaiting_approval');
  });

  it('an edit that fixes the ticket is checked again and asks the approvers', async () => {
    const { csr } = await makeCsr('hr_integration-CF1234-fixed');
    await expectReply(
      53,
      form({ customerCode: 'CF1234' }).replace('hr_integration', 'hr integration'),
      (b) => b.includes('ons-certs:needs-info:53'),
      ['needs-info'],
    );
    const scopes = [
      github.config(APPROVERS_YAML),
      github.comment(53, (b) => b.includes('ons-certs:approval-request:')),
      // needs-info goes and awaiting-approval comes in one write, after one read of the labels.
      github.getIssue(53, ['certificate-approval', 'needs-info']),
      github.updateIssue(53, ['certificate-approval', 'awaiting-approval']),
    ];
    const edited = issueEvent('edited', {
      number: 53,
      body: form({ customerCode: 'CF1234', csr }),
      labels: ['certificate-approval', 'needs-info'],
    });
    await world.bot.deliver('issues', edited);
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true));
  });
});
