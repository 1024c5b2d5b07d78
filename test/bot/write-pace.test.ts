import type { ClientRequest } from 'node:http';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertGitHubDone, quietFor, startBotWorld, type BotWorld } from '../helpers/bot-world.ts';
import { APPROVERS_YAML, eventually, github } from '../helpers/github.ts';

// Probot's own Octokit as in production, at 120 writes a minute (500 ms apart) so the test is
// short: every write, comment or not, keeps the pace; comments are no longer 3 s apart.
let world: BotWorld;

beforeAll(async () => {
  world = await startBotWorld({ productionOctokit: true, env: { GITHUB_WRITES_PER_MINUTE: '120' } });
}, 60_000);
afterAll(async () => world?.close());
afterEach(assertGitHubDone);

const alice = { login: 'alice', id: 7001 };

describe("GitHub's write pace", () => {
  it('three approvals at once: 6 writes, each at least 500 ms after the one before, comments first', async () => {
    const tickets = [
      { number: 301, code: 'TE1234' },
      { number: 302, code: 'TE1235' },
      { number: 303, code: 'TE1236' },
    ];
    const issues: Awaited<ReturnType<BotWorld['openTicket']>>['issue'][] = [];
    for (const t of tickets) issues.push((await world.openTicket(t.number, t.code)).issue);

    const writes: { at: number; what: string }[] = [];
    const record = (scope: nock.Scope) =>
      scope.on('request', (req: ClientRequest & { method: string; path: string }) => {
        if (req.method !== 'GET') writes.push({ at: Date.now(), what: `${req.method} ${req.path}` });
      });
    const scopes = tickets.flatMap((t) => [
      github.config(APPROVERS_YAML),
      github.comment(t.number, (b) => b.includes('ons-certs:approved:')),
      ...github.decided(t.number, 'approved', 'completed'),
    ]);
    scopes.forEach(record);

    const sent = Date.now();
    const answers = await Promise.all(
      tickets.map((t, i) => world.comment(issues[i]!, t.number * 100 + 1, '/approve', alice)),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true), 20_000);
    await quietFor(600);

    expect(writes).toHaveLength(6);
    const gaps = writes.slice(1).map((w, i) => w.at - writes[i]!.at);
    // Turns are 500 ms apart; the way from the turn to the socket varies by a few ms.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(450);
    expect(writes.at(-1)!.at - writes[0]!.at).toBeGreaterThanOrEqual(5 * 500 - 30);
    // The three PEM comments go before any housekeeping, one pace step apart (not Octokit's 3 s).
    expect(writes.slice(0, 3).every((w) => w.what.endsWith('/comments'))).toBe(true);
    expect(Math.max(...gaps.slice(0, 2))).toBeLessThan(1500);
    // The whole burst: 5 gaps of 500 ms plus the work, not 3 comments 3 s apart and 1 s writes.
    expect(writes.at(-1)!.at - sent).toBeLessThan(5000);
    for (const t of tickets) expect((await world.line(t.code))?.request?.state).toBe('signed');
  }, 40_000);
});
