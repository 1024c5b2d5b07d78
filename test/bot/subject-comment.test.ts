import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertGitHubDone, startBotWorld, type BotWorld } from '../helpers/bot-world.ts';
import { openssl, tempDir } from '../helpers/fixtures.ts';
import { APPROVERS_YAML, eventually, github, issueEvent, ticketBody } from '../helpers/github.ts';

let world: BotWorld;

beforeAll(async () => {
  world = await startBotWorld();
}, 60_000);
afterAll(async () => world?.close());
afterEach(assertGitHubDone);

describe('the subject in the approval comment (item 5)', () => {
  it('an O of "Zorg B.V., CN=other_conn-CF1234-prod" reads as one O: the approver sees one CN', async () => {
    const dir = await tempDir();
    const made = await openssl([
      ...['req', '-new', '-newkey', 'rsa:4096', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')],
      ...['-utf8', '-subj'],
      '/CN=hr_integration-TE1234-comma/OU=Zorg/O=Zorg B.V., CN=other_conn-CF1234-prod/L=Zwolle/ST=Overijssel/C=NL/emailAddress=a@b.nl',
    ]);
    expect(made.code).toBe(0);
    const csr = await readFile(join(dir, 'c'), 'utf8');
    let asked = '';
    const scopes = [
      github.config(APPROVERS_YAML),
      github.comment(71, (body) => {
        asked = body;
        return body.includes('ons-certs:approval-request:');
      }),
      github.labels(71, ['awaiting-approval']),
    ];
    const issue = {
      number: 71,
      body: ticketBody({ connector: 'hr_integration', version: '1.0', customerCode: 'TE1234', csr }),
    };
    expect((await world.bot.deliver('issues', issueEvent('opened', issue))).status).toBe(200);
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true));
    const line = asked.split('\n').find((l) => l.startsWith('- CSR subject:'));
    expect(line).toBe(
      '- CSR subject: `CN=hr_integration-TE1234-comma, OU=Zorg, O=Zorg B.V.\\, CN=other_conn-CF1234-prod, L=Zwolle, ST=Overijssel, C=NL, emailAddress=a@b.nl`',
    );
  });
});
