import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertGitHubDone,
  LINES,
  pemIn,
  quietFor,
  startBotWorld,
  verifyAgainstCa,
  type BotWorld,
  type Line,
} from '../helpers/bot-world.ts';
import {
  APPROVERS_YAML,
  commentEvent,
  eventually,
  github,
  issueEvent,
  ticketBody,
} from '../helpers/github.ts';
import { makeCsr } from '../helpers/services.ts';

let world: BotWorld;

beforeAll(async () => {
  world = await startBotWorld();
}, 60_000);
afterAll(async () => world?.close());
// Every expected GitHub call was made, and no other was tried.
afterEach(assertGitHubDone);

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
      const response = await world.bot.deliver('issues', issueEvent('opened', issue));
      expect(response.status).toBe(200);
      await eventually(() => expect(request.isDone() && awaiting.isDone() && config.isDone()).toBe(true));
      expect(asked[0]).toContain('@alice');
      expect(asked[0]).toContain('@zorggroep-oost/certificate-approvers');
      expect(asked[0]).toContain('Zorggroep Oost');

      const lines = await world.bot.call<Line[]>('GET', LINES, world.supplierToken);
      const line = lines.json.find((l) => l.customerCode === code);
      expect(line?.request?.state).toBe('awaiting_approval');

      const posted: string[] = [];
      const config2 = github.config(APPROVERS_YAML);
      const approved = github.comment(number, (body) => {
        posted.push(body);
        return body.includes('ons-certs:approved:');
      });
      const decided = github.decided(number, 'approved', 'completed');
      const approve = await world.bot.deliver(
        'issue_comment',
        commentEvent(
          { ...issue, labels: ['certificate-approval', 'awaiting-approval'] },
          { id: 9000 + number, body: '/approve', user: { login: 'alice', id: 7001 } },
        ),
      );
      expect(approve.status).toBe(200);
      await eventually(() => expect([config2, approved, ...decided].every((s) => s.isDone())).toBe(true));
      const pem = pemIn(posted[0] ?? '');
      expect(await verifyAgainstCa(world.bot.url, pem)).toContain('OK');
      expect(posted[0]).toContain('alice');

      const after = await world.bot.call<Line[]>('GET', LINES, world.supplierToken);
      const signed = after.json.find((l) => l.customerCode === code);
      expect(signed?.request?.state).toBe('signed');
      expect(posted[0]).toContain(signed?.certificate?.serial);
    },
  );
});

describe("GitHub's write limit goes to certificates", () => {
  it("a ticket's whole life is 4 writes: intake comment and label, then the approval's 2", async () => {
    const writes: string[] = [];
    /** Records each request that is not a read (GitHub's ~80 a minute are counted on these). */
    const counted = (scope: nock.Scope) =>
      scope.on('request', (req: { method?: string; path?: string }) => {
        if (req.method !== 'GET') writes.push(`${req.method} ${req.path}`);
      });
    const { csr } = await makeCsr('hr_integration-TE1235-writes');
    const issue = {
      number: 13,
      body: ticketBody({ connector: 'hr_integration', version: '1.0', customerCode: 'TE1235', csr }),
    };
    const intake = [
      github.config(APPROVERS_YAML),
      github.comment(13, (b) => b.includes('ons-certs:approval-request:')),
      github.labels(13, ['awaiting-approval']),
    ].map(counted);
    await world.bot.deliver('issues', issueEvent('opened', issue));
    await eventually(() => expect(intake.every((s) => s.isDone())).toBe(true));
    await quietFor(300);
    expect(writes).toEqual([
      'POST /repos/nedap-ons/support/issues/13/comments',
      'POST /repos/nedap-ons/support/issues/13/labels',
    ]);

    writes.length = 0;
    const approval = [
      github.config(APPROVERS_YAML),
      github.comment(13, (b) => b.includes('ons-certs:approved:')),
      ...github.decided(13, 'approved', 'completed'),
    ].map(counted);
    const labelled = { ...issue, labels: ['certificate-approval', 'awaiting-approval'] };
    const approve = commentEvent(labelled, {
      id: 1301,
      body: '/approve',
      user: { login: 'alice', id: 7001 },
    });
    await world.bot.deliver('issue_comment', approve);
    await eventually(() => expect(approval.every((s) => s.isDone())).toBe(true));
    // Anything more (a reaction, a label call) would be tried now and refused (assertGitHubDone).
    await quietFor(500);
    // The PEM comment, then one PATCH with the labels, state and state_reason; no reaction.
    expect(writes).toEqual([
      'POST /repos/nedap-ons/support/issues/13/comments',
      'PATCH /repos/nedap-ons/support/issues/13',
    ]);
    expect((await world.line('TE1235'))?.request?.state).toBe('signed');
  });
});
