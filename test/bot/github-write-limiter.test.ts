import { describe, expect, it } from 'vitest';
import { createWriteLimiter, GitHubWriteBudgetSpent } from '../../src/bot/github-write-limiter.ts';

describe('the GitHub write limiter', () => {
  it("hands out one installation's turns in the order asked, spaced by the pace", async () => {
    const limiter = createWriteLimiter({ perMinute: 600, perHour: 500 }); // 100 ms apart
    const started = Date.now();
    const order: number[] = [];
    const at: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map((i) =>
        limiter.turn('7').then(() => {
          order.push(i);
          at.push(Date.now() - started);
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3]);
    expect(at[0]).toBeLessThan(50);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(99);
  });

  it('one installation does not hold back another (GitHub counts per installation)', async () => {
    const limiter = createWriteLimiter({ perMinute: 6, perHour: 500 }); // 10 s apart
    await limiter.turn('7');
    const started = Date.now();
    await limiter.turn('8');
    expect(Date.now() - started).toBeLessThan(50);
  });

  it("hands a wait beyond maxWaitMs back (the hour's budget is spent), and others behind it too", async () => {
    let now = 5_000_000;
    const limiter = createWriteLimiter({ perMinute: 600, perHour: 2 }, { now: () => now, maxWaitMs: 60_000 });
    await limiter.turn('7');
    now += 1_000;
    await limiter.turn('7');
    now += 1_000;
    const spent = await limiter.turn('7').catch((error: unknown) => error);
    expect(spent).toBeInstanceOf(GitHubWriteBudgetSpent);
    expect((spent as GitHubWriteBudgetSpent).until).toBe(5_000_000 + 3_600_000);
    expect((spent as Error).message).toMatch(/hourly write budget is spent; the next write may go at 1970-/);
    // An hour after the first, the third may go.
    now = 5_000_000 + 3_600_000;
    await expect(limiter.turn('7')).resolves.toBeUndefined();
  });
});
