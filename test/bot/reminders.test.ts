import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertGitHubDone, quietFor, startBotWorld, type BotWorld } from '../helpers/bot-world.ts';
import { eventually, github } from '../helpers/github.ts';

/** A "day" of the approvers file lasts one second here. */
const DAY_MS = 1000;
const SHORT = `organisations:
  - name: Zorggroep Oost
    customer_codes: [TE1234, CF1234]
    approvers: [alice, "@zorggroep-oost/certificate-approvers"]
reminder_days: 1
expire_days: 3
`;

let world: BotWorld;

beforeAll(async () => {
  world = await startBotWorld({ dayMs: DAY_MS });
}, 60_000);
afterAll(async () => world?.close());
afterEach(assertGitHubDone);

describe('a request nobody answers', () => {
  it('re-mentions the approvers every reminder_days and expires after expire_days', async () => {
    const asked = Date.now();
    const { issue } = await world.openTicket(71, 'TE1234', SHORT);
    const times: number[] = [];
    const reminders = [1, 2].map((n) =>
      github.comment(71, (body) => {
        const match = body.includes(`ons-certs:reminder:`) && body.endsWith(`-${n} -->`);
        if (match) times.push(Date.now() - asked);
        return match && body.includes('@alice') && body.includes('@zorggroep-oost/certificate-approvers');
      }),
    );
    let expiredAt = 0;
    const expiry = [
      github.comment(71, (body) => {
        expiredAt = Date.now() - asked;
        return body.includes('ons-certs:expired:') && body.includes('3 days');
      }),
      ...github.decided(71, 'expired', 'not_planned'),
    ];
    await eventually(() => expect([...reminders, ...expiry].every((s) => s.isDone())).toBe(true), 10_000);
    // Each at its time, not before: days 1 and 2, expiry at day 3.
    expect(times[0]).toBeGreaterThanOrEqual(1 * DAY_MS);
    expect(times[1]).toBeGreaterThanOrEqual(2 * DAY_MS);
    expect(expiredAt).toBeGreaterThanOrEqual(3 * DAY_MS);
    expect((await world.line('TE1234'))?.request?.state).toBe('expired');

    // Nothing is read on the expired ticket any more.
    const late = [github.comment(71, (body) => body.includes('ons-certs:refusal:7101'))];
    await world.comment({ ...issue, state: 'closed' }, 7101, '/approve', { login: 'alice', id: 7001 });
    await eventually(() => expect(late.every((s) => s.isDone())).toBe(true));
    await quietFor();
    expect((await world.line('TE1234'))?.request?.state).toBe('expired');
  }, 20_000);

  it('a decision before the first reminder means no reminder at all', async () => {
    const { issue } = await world.openTicket(72, 'CF1234', SHORT);
    const decided = [
      github.config(SHORT),
      github.comment(72, (b) => b.includes('ons-certs:rejected:')),
      ...github.decided(72, 'rejected', 'not_planned'),
    ];
    await world.comment(issue, 7201, '/reject wrong organisation', { login: 'alice', id: 7001 });
    await eventually(() => expect(decided.every((s) => s.isDone())).toBe(true));
    // Past the first reminder's time: nock would refuse (and the test fail on) any reminder.
    await quietFor(1500);
    expect((await world.line('CF1234'))?.request?.state).toBe('rejected');
  });
});
