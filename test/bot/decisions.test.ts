import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { APPROVERS_YAML, eventually, github, issueEvent, ticketBody } from '../helpers/github.ts';
import {
  assertGitHubDone,
  pemIn,
  quietFor,
  startBotWorld,
  verifyAgainstCa,
  type BotWorld,
} from '../helpers/bot-world.ts';
import { makeCsr } from '../helpers/services.ts';

let world: BotWorld;

beforeAll(async () => {
  world = await startBotWorld();
}, 60_000);
afterAll(async () => world?.close());
afterEach(assertGitHubDone);

const alice = { login: 'alice', id: 7001 };

describe('rejecting', () => {
  it('posts the reason, labels the ticket rejected and closes it as not planned', async () => {
    const { issue } = await world.openTicket(21, 'TE1234');
    let posted = '';
    const scopes = [
      github.config(APPROVERS_YAML),
      github.comment(21, (body) => {
        posted = body;
        return body.includes('ons-certs:rejected:');
      }),
      // Support's own label, set since the ticket was opened, stays; ours is replaced.
      ...github.decided(21, 'rejected', 'not_planned', ['certificate-approval', 'customer-waiting']),
    ];
    expect((await world.comment(issue, 2101, '/reject too broad: @bob please check', alice)).status).toBe(
      200,
    );
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true));
    expect(posted).toContain('too broad');
    // The reason is quoted, so the @ in it mentions nobody.
    expect(posted).not.toMatch(/(^|[^\\`])@bob/);
    expect((await world.line('TE1234'))?.request?.state).toBe('rejected');
  });

  it('answers a /reject without a reason and changes nothing', async () => {
    const { issue } = await world.openTicket(22, 'CF1234');
    const scopes = [
      github.config(APPROVERS_YAML),
      github.comment(22, (body) => body.includes('ons-certs:refusal:2201') && body.includes('reason')),
    ];
    await world.comment(issue, 2201, '/reject', alice);
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true));
    expect((await world.line('CF1234'))?.request?.state).toBe('awaiting_approval');
  });
});

describe('renewal', () => {
  it('signs a ticket for a line with consent at once, without asking anyone', async () => {
    // Consent for TE5678 first: an approval by its approver.
    const { issue } = await world.openTicket(23, 'TE5678');
    const first = [
      github.config(APPROVERS_YAML),
      github.comment(23, (b) => b.includes('ons-certs:approved:')),
      ...github.decided(23, 'approved', 'completed'),
    ];
    await world.comment(issue, 2301, '/approve', { login: 'mallory', id: 7002 });
    await eventually(() => expect(first.every((s) => s.isDone())).toBe(true));
    const before = await world.line('TE5678');

    const { csr } = await makeCsr('hr_integration-TE5678-renewal');
    let posted = '';
    const renewal = [
      github.comment(24, (body) => {
        posted = body;
        return body.includes('ons-certs:renewed:');
      }),
      github.getIssue(24, ['certificate-approval']),
      github.updateIssue(24, ['certificate-approval', 'approved'], 'completed'),
    ];
    const ticket = {
      number: 24,
      body: ticketBody({ connector: 'hr_integration', version: '1.0', customerCode: 'TE5678', csr }),
    };
    await world.bot.deliver('issues', issueEvent('opened', ticket));
    await eventually(() => expect(renewal.every((s) => s.isDone())).toBe(true));
    expect(posted).toContain('mallory');
    expect(await verifyAgainstCa(world.bot.url, pemIn(posted))).toContain('OK');
    const after = await world.line('TE5678');
    expect(after?.request?.state).toBe('signed');
    expect(after?.certificate?.serial).not.toBe(before?.certificate?.serial);
  });
});

describe('refused commands change nothing', () => {
  let issue: Awaited<ReturnType<BotWorld['openTicket']>>['issue'];
  beforeAll(async () => {
    ({ issue } = await world.openTicket(30, 'TE5679'));
    assertGitHubDone();
  });

  it.each([
    ['an approver of another organisation', 3001, { login: 'alice', id: 7001 }, 'only the approvers'],
    ['the ticket author', 3002, { login: 'supplier-dev', id: 5001 }, 'You opened this request'],
    ['a login of the supplier', 3003, { login: 'Supplier-Ops', id: 5002 }, 'registered for the connector'],
  ])('%s gets one reply', async (_who, id, user, words) => {
    let posted = '';
    const scopes = [
      github.config(APPROVERS_YAML),
      github.comment(30, (body) => {
        posted = body;
        return body.includes(`ons-certs:refusal:${id}`);
      }),
    ];
    await world.comment(issue, id, '/approve', user);
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true));
    expect(posted).toContain(words);
    expect((await world.line('TE5679'))?.request?.state).toBe('awaiting_approval');
  });

  it.each([
    ['a bot', '/approve', { login: 'renovate[bot]', id: 9, type: 'Bot' }],
    ['/approve inside a quote', '> /approve', { login: 'mallory', id: 7002 }],
    ['/approve inside a code block', '```\n/approve\n```', { login: 'mallory', id: 7002 }],
    ['/approve after other text', 'Looks fine.\n/approve', { login: 'mallory', id: 7002 }],
  ])('%s: no reply, nothing happens', async (_what, body, user) => {
    expect((await world.comment(issue, 3100, body, user)).status).toBe(200);
    await quietFor();
    expect((await world.line('TE5679'))?.request?.state).toBe('awaiting_approval');
  });

  it('an edited comment is not read', async () => {
    const { commentEvent } = await import('../helpers/github.ts');
    const edited = commentEvent(
      issue,
      { id: 3101, body: '/approve', user: { login: 'mallory', id: 7002 } },
      'edited',
    );
    expect((await world.bot.deliver('issue_comment', edited)).status).toBe(200);
    await quietFor();
    expect((await world.line('TE5679'))?.request?.state).toBe('awaiting_approval');
  });

  it('/approved gets an explanation of the commands', async () => {
    const scopes = [
      github.comment(
        30,
        (body) => body.includes('ons-certs:unknown-command:3201') && body.includes('/approve'),
      ),
    ];
    await world.comment(issue, 3201, '/approved', { login: 'mallory', id: 7002 });
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true));
    expect((await world.line('TE5679'))?.request?.state).toBe('awaiting_approval');
  });

  it('a team approver who is not a member of the team is refused; a member may approve', async () => {
    const { issue: teamIssue } = await world.openTicket(31, 'CF1234');
    const refused = [
      github.config(APPROVERS_YAML),
      github.teamMember('zorggroep-oost', 'certificate-approvers', 'carol', false),
      github.comment(31, (body) => body.includes('ons-certs:refusal:3301')),
    ];
    await world.comment(teamIssue, 3301, '/approve', { login: 'carol', id: 7003 });
    await eventually(() => expect(refused.every((s) => s.isDone())).toBe(true));
    expect((await world.line('CF1234'))?.request?.state).toBe('awaiting_approval');
    assertGitHubDone();

    const approved = [
      github.config(APPROVERS_YAML),
      github.teamMember('zorggroep-oost', 'certificate-approvers', 'dave', true),
      github.comment(31, (body) => body.includes('ons-certs:approved:') && body.includes('dave')),
      ...github.decided(31, 'approved', 'completed'),
    ];
    await world.comment(teamIssue, 3302, '/approve', { login: 'dave', id: 7004 });
    await eventually(() => expect(approved.every((s) => s.isDone())).toBe(true));
    expect((await world.line('CF1234'))?.request?.state).toBe('signed');
  });

  it('a command on a closed or already decided ticket is answered and changes nothing', async () => {
    const closed = [
      github.comment(30, (body) => body.includes('ons-certs:refusal:3401') && body.includes('closed')),
    ];
    await world.comment({ ...issue, state: 'closed' }, 3401, '/approve', { login: 'mallory', id: 7002 });
    await eventually(() => expect(closed.every((s) => s.isDone())).toBe(true));
    expect((await world.line('TE5679'))?.request?.state).toBe('awaiting_approval');
  });
});

describe('the CSR changes before the decision', () => {
  it('a newer upload in the dashboard: an /approve asks the approvers again for the new CSR', async () => {
    const lines = '/api/connectors/hr_integration/versions/1.0/environments';
    await world.bot.call('POST', lines, world.supplierToken, { customerCode: 'TE1236' });
    const first = await makeCsr('hr_integration-TE1236-first');
    await world.bot.call('PUT', `${lines}/TE1236/csr`, world.supplierToken, first.csr);
    const issue = {
      number: 81,
      body: ticketBody({ connector: 'hr_integration', version: '1.0', customerCode: 'TE1236' }),
    };
    const asked = [
      github.config(APPROVERS_YAML),
      github.comment(81, (b) => b.includes('ons-certs:approval-request:')),
      github.labels(81, ['awaiting-approval']),
    ];
    await world.bot.deliver('issues', issueEvent('opened', issue));
    await eventually(() => expect(asked.every((s) => s.isDone())).toBe(true));
    const before = await world.line('TE1236');
    assertGitHubDone();

    const second = await makeCsr('hr_integration-TE1236-second');
    await world.bot.call('PUT', `${lines}/TE1236/csr`, world.supplierToken, second.csr);
    const after = await world.line('TE1236');
    let askedAgain = '';
    const again = [
      github.config(APPROVERS_YAML),
      github.comment(81, (b) => b.includes(`ons-certs:csr-changed:${before?.request?.id}`)),
      github.comment(81, (b) => {
        askedAgain = b;
        return b.includes(`ons-certs:approval-request:${after?.request?.id}`);
      }),
      github.labels(81, ['awaiting-approval']),
    ];
    const labelled = { ...issue, labels: ['certificate-approval', 'awaiting-approval'] };
    await world.comment(labelled, 8101, '/approve', alice);
    await eventually(() => expect(again.every((s) => s.isDone())).toBe(true));
    expect(askedAgain).toContain('@alice');
    // Nothing was signed: the approvers decide on the new CSR.
    expect((await world.line('TE1236'))?.request?.state).toBe('awaiting_approval');
    expect((await world.line('TE1236'))?.certificate).toBeUndefined();
  });
});
