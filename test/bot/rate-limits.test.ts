import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertGitHubDone, quietFor, startBotWorld, type BotWorld } from '../helpers/bot-world.ts';
import { ADMIN, API, APPROVERS_YAML, eventually, github, OWNER, REPO } from '../helpers/github.ts';

// Probot's own Octokit as in production: its throttling only logs a secondary rate limit (it
// does not retry inside the app), so the github job must wait it out itself.
let world: BotWorld;

beforeAll(async () => {
  world = await startBotWorld({ productionOctokit: true });
}, 60_000);
afterAll(async () => world?.close());
afterEach(assertGitHubDone);

const alice = { login: 'alice', id: 7001 };

async function rateLimitedCount(limit: string): Promise<number> {
  const response = await fetch(`${world.bot.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const text = await response.text();
  const line = new RegExp(`^ons_certs_github_rate_limited_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(
    text,
  );
  return Number(line?.[1] ?? NaN);
}

describe("GitHub's secondary rate limit", () => {
  it.each([
    [403, 91, 'TE1234'],
    [429, 92, 'CF1234'],
  ])(
    'a %i with retry-after delays the PEM comment by that long, fails nothing, and is counted',
    async (status, number, code) => {
      const { issue } = await world.openTicket(number, code);
      const before = await rateLimitedCount('secondary');
      let limitedAt = 0;
      const limited = nock(API)
        .post(`/repos/${OWNER}/${REPO}/issues/${number}/comments`)
        .reply(
          status,
          () => {
            limitedAt = Date.now();
            return {
              message:
                'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
              documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
            };
          },
          { 'retry-after': '2' },
        );
      let postedAt = 0;
      const scopes = [
        github.config(APPROVERS_YAML),
        limited,
        // The retry looks for the comment first: the limited attempt might have posted it.
        github.listComments(number),
        github.comment(number, (b) => {
          postedAt = Date.now();
          return b.includes('ons-certs:approved:');
        }),
        ...github.decided(number, 'approved', 'completed'),
      ];
      await world.comment(issue, number * 100 + 1, '/approve', alice);
      await eventually(() => expect(scopes.every((s) => s.isDone())).toBe(true), 30_000);
      // retry-after 2 s plus a second of slack; Probot did not resend it in between (nock
      // would have refused a second limited POST: assertGitHubDone).
      expect(postedAt - limitedAt).toBeGreaterThanOrEqual(2900);
      expect(await rateLimitedCount('secondary')).toBe(before + 1);
      expect((await world.line(code))?.request?.state).toBe('signed');
      await quietFor(300);
    },
    40_000,
  );
});
