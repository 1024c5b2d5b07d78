import nock from 'nock';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertGitHubDone, quietFor, startBotWorld, type BotWorld } from '../helpers/bot-world.ts';
import {
  ADMIN,
  API,
  APPROVERS_YAML,
  commentEvent,
  eventually,
  github,
  issueEvent,
  ticketBody,
} from '../helpers/github.ts';
import { makeCsr } from '../helpers/services.ts';

let world: BotWorld;
let sql: postgres.Sql;

beforeAll(async () => {
  world = await startBotWorld();
  sql = postgres(world.bot.env['DATABASE_URL']!, { max: 1, onnotice: () => undefined });
}, 60_000);
afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await world?.close();
});
afterEach(assertGitHubDone);

const alice = { login: 'alice', id: 7001 };

/** What an approval does on the ticket: the PEM comment, then one read and one PATCH (labels, closing). */
function approvalUpdates(number: number) {
  return [
    github.config(APPROVERS_YAML),
    github.comment(number, (b) => b.includes('ons-certs:approved:') && b.includes('BEGIN CERTIFICATE')),
    ...github.decided(number, 'approved', 'completed'),
  ];
}

/** The certificates issued for the requests of a ticket. */
async function certificatesOf(number: number): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from certificates
    where request_id in (select id from certificate_requests where ticket = ${`nedap-ons/support#${number}`})`;
  return row!.n;
}

/** The requests of a ticket, oldest first. */
async function requestsOf(number: number): Promise<{ state: string; created_at: Date }[]> {
  return sql`select state, created_at from certificate_requests
    where ticket = ${`nedap-ons/support#${number}`} order by created_at`;
}

/** A time as GitHub writes it: whole seconds, cut down. */
const gitHubTime = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

/** The value of one series of the webhook deliveries counter in /metrics. */
async function delivered(outcome: string): Promise<number> {
  const text = await (
    await fetch(`${world.bot.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
  ).text();
  const line = text
    .split('\n')
    .find((l) =>
      l.startsWith(`ons_certs_webhook_deliveries_total{event="issue_comment.created",outcome="${outcome}"}`),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('a comment acts at most once, whatever delivery brings it', () => {
  it('the same signed /approve under a new delivery id: answered 200, no reply, one certificate', async () => {
    const { issue } = await world.openTicket(81, 'TE1234');
    const event = commentEvent(issue, { id: 8101, body: '/approve', user: alice });
    const updates = approvalUpdates(81);
    expect((await world.bot.deliver('issue_comment', event, 'delivery-81')).status).toBe(200);
    await eventually(() => expect(updates.every((s) => s.isDone())).toBe(true), 20_000);
    expect((await world.line('TE1234'))?.request?.state).toBe('signed');
    const before = await delivered('duplicate_comment');

    // Replayed: the same bytes and signature, a new delivery id. Before comment claims it was
    // handled again, and told that the request is signed (a comment nock refuses here).
    const replay = await world.bot.deliver('issue_comment', event, 'replayed-81');
    expect(replay.status).toBe(200);
    // GitHub's own redelivery (the same delivery id) is still recognised by that id.
    const redelivery = await world.bot.deliver('issue_comment', event, 'delivery-81');
    expect(redelivery.status).toBe(200);
    await quietFor();
    expect(await certificatesOf(81)).toBe(1);
    expect(await delivered('duplicate_comment')).toBe(before + 1);
    expect(await delivered('duplicate')).toBeGreaterThanOrEqual(1);
  });

  it('a failed handling gives both claims back: the redelivery signs', async () => {
    const { issue } = await world.openTicket(82, 'CF1234');
    const event = commentEvent(issue, { id: 8201, body: '/approve', user: alice });
    // GitHub fails to give the approvers file: the handling fails after both claims were made.
    const broken = nock(API)
      .get(/\/repos\/nedap-ons\/support\/contents\/\.github(%2F|\/)ons-certificates\.yml/)
      .reply(500, { message: 'boom' });
    expect((await world.bot.deliver('issue_comment', event, 'delivery-82')).status).toBe(500);
    expect(broken.isDone()).toBe(true);
    expect((await world.line('CF1234'))?.request?.state).toBe('awaiting_approval');

    const updates = approvalUpdates(82);
    expect((await world.bot.deliver('issue_comment', event, 'delivery-82')).status).toBe(200);
    await eventually(() => expect(updates.every((s) => s.isDone())).toBe(true), 20_000);
    expect((await world.line('CF1234'))?.request?.state).toBe('signed');
    expect(await certificatesOf(82)).toBe(1);
  });
});

describe('a comment written before the request it would decide cannot decide it', () => {
  it('after a rejection and a new CSR on the same ticket: the old commands change nothing', async () => {
    const { issue } = await world.openTicket(83, 'TE1235');
    const rejection = commentEvent(issue, { id: 8301, body: '/reject wrong organisation', user: alice });
    const rejected = [
      github.config(APPROVERS_YAML),
      github.comment(83, (b) => b.includes('ons-certs:rejected:')),
      ...github.decided(83, 'rejected', 'not_planned'),
    ];
    expect((await world.bot.deliver('issue_comment', rejection)).status).toBe(200);
    await eventually(() => expect(rejected.every((s) => s.isDone())).toBe(true));
    // Written by alice then, but (say) its delivery failed and is sent again much later.
    const writtenThen = gitHubTime(new Date());

    // The supplier reopens the ticket with a new CSR: a new request waits on the same ticket.
    const { csr } = await makeCsr('hr_integration-TE1235-second');
    const reopened = {
      number: 83,
      state: 'open' as const,
      body: ticketBody({ connector: 'hr_integration', version: '1.0', customerCode: 'TE1235', csr }),
      labels: ['certificate-approval', 'rejected'],
    };
    const asked = [
      github.config(APPROVERS_YAML),
      github.comment(83, (b) => b.includes('ons-certs:approval-request:')),
      github.getIssue(83, ['certificate-approval', 'rejected']),
      github.updateIssue(83, ['certificate-approval', 'awaiting-approval']),
    ];
    expect((await world.bot.deliver('issues', issueEvent('edited', reopened))).status).toBe(200);
    await eventually(() => expect(asked.every((s) => s.isDone())).toBe(true));
    expect((await requestsOf(83)).map((r) => r.state)).toEqual(['rejected', 'awaiting_approval']);
    const now = { ...reopened, labels: ['certificate-approval', 'awaiting-approval'] };

    // The old /reject replayed under a new delivery id: no effect, no reply.
    expect((await world.bot.deliver('issue_comment', rejection, 'replayed-8301')).status).toBe(200);
    // An /approve written before the new request (never seen before): one refusal, nothing approved.
    let refusal = '';
    const refused = [
      github.comment(83, (b) => {
        refusal = b;
        return b.includes('ons-certs:refusal:8302');
      }),
    ];
    const early = commentEvent(now, { id: 8302, body: '/approve', user: alice, createdAt: writtenThen });
    expect((await world.bot.deliver('issue_comment', early)).status).toBe(200);
    await eventually(() => expect(refused.every((s) => s.isDone())).toBe(true));
    expect(refusal).toContain('written before the request it would decide');
    expect(refusal).toContain('comment again');
    await quietFor();
    expect((await requestsOf(83)).map((r) => r.state)).toEqual(['rejected', 'awaiting_approval']);
    expect(await certificatesOf(83)).toBe(0);

    // Written now, after the new request was made: it decides.
    const updates = approvalUpdates(83);
    await world.comment(now, 8303, '/approve', alice);
    await eventually(() => expect(updates.every((s) => s.isDone())).toBe(true), 20_000);
    expect((await requestsOf(83)).map((r) => r.state)).toEqual(['rejected', 'signed']);
    expect(await certificatesOf(83)).toBe(1);
  });
});
