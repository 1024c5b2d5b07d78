import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyGitHubFailure,
  RATE_LIMIT_MAX_DELAY_MS,
  TRANSIENT_MAX_DELAY_MS,
  type GitHubFailureInput,
  type GitHubFailureVerdict,
} from '../../src/core/github-retry.ts';

const NOW = Date.parse('2025-03-01T12:00:00Z');
/** x-ratelimit-reset for `seconds` from NOW, as GitHub sends it (epoch seconds). */
const resetIn = (seconds: number) => String(NOW / 1000 + seconds);
const exhausted = (seconds: number) => ({
  'x-ratelimit-remaining': '0',
  'x-ratelimit-reset': resetIn(seconds),
});

const classify = (input: Omit<GitHubFailureInput, 'now' | 'attempt'> & { attempt?: number }) =>
  classifyGitHubFailure({ now: NOW, attempt: 1, ...input });

function delayOf(verdict: GitHubFailureVerdict): number | undefined {
  return verdict.kind === 'permanent' ? undefined : verdict.delayMs;
}

describe('classifyGitHubFailure: rate limits', () => {
  it.each<[string, Omit<GitHubFailureInput, 'now' | 'attempt'>, number, string]>([
    ['primary limit, 403', { status: 403, headers: exhausted(300) }, 301_000, 'primary rate limit'],
    ['primary limit, 429', { status: 429, headers: exhausted(300) }, 301_000, 'primary rate limit'],
    [
      'secondary, 403 retry-after',
      { status: 403, headers: { 'retry-after': '120' } },
      121_000,
      'retry-after 120 s',
    ],
    [
      'secondary, 429 retry-after',
      { status: 429, headers: { 'retry-after': '30' } },
      31_000,
      'secondary rate limit',
    ],
    [
      'both, reset later',
      { status: 403, headers: { ...exhausted(300), 'retry-after': '120' } },
      301_000,
      'primary',
    ],
    [
      'both, retry-after later',
      { status: 429, headers: { ...exhausted(300), 'retry-after': '600' } },
      601_000,
      'primary',
    ],
    [
      'mixed-case retry-after',
      { status: 403, headers: { 'Retry-After': '120' } },
      121_000,
      'retry-after 120 s',
    ],
    [
      'mixed-case primary headers',
      { status: 403, headers: { 'X-RateLimit-Remaining': '0', 'X-RATELIMIT-RESET': resetIn(60) } },
      61_000,
      'primary',
    ],
    [
      'array values take the first',
      { status: 403, headers: { 'retry-after': ['90', '5'] } },
      91_000,
      'retry-after 90 s',
    ],
    ['reset in the past', { status: 403, headers: exhausted(-100) }, 1_000, 'primary'],
    ['retry-after 0', { status: 429, headers: { 'retry-after': '0' } }, 1_000, 'secondary'],
    [
      'absurd retry-after',
      { status: 403, headers: { 'retry-after': '999999999' } },
      RATE_LIMIT_MAX_DELAY_MS,
      'capped',
    ],
    [
      'reset in 2100',
      { status: 403, headers: exhausted(75 * 365 * 86_400) },
      RATE_LIMIT_MAX_DELAY_MS,
      'capped',
    ],
    [
      'retry-after too long to be a number',
      { status: 429, headers: { 'retry-after': '9'.repeat(400) } },
      60_000,
      '',
    ],
    ['garbage retry-after on 429', { status: 429, headers: { 'retry-after': 'soon' } }, 60_000, '(429)'],
    ['remaining 0, unreadable reset', { status: 403, headers: exhausted(NaN) }, 60_000, 'primary rate limit'],
    [
      'secondary by message',
      { status: 403, message: 'You have exceeded a secondary rate limit.' },
      60_000,
      'secondary',
    ],
    [
      'abuse by message',
      { status: 403, message: 'You have triggered an abuse detection mechanism.' },
      60_000,
      'secondary',
    ],
    [
      'primary by message only',
      { status: 403, message: 'API rate limit exceeded for installation.' },
      60_000,
      'rate',
    ],
    ['429 with nothing', { status: 429 }, 60_000, 'without a readable wait time'],
  ])('%s', (_name, input, delayMs, inReason) => {
    const verdict = classify(input);
    expect(verdict).toMatchObject({ kind: 'rate_limited', delayMs });
    if (verdict.kind !== 'rate_limited') return;
    expect(verdict.until.getTime()).toBe(NOW + delayMs);
    expect(verdict.reason).toContain(inReason);
    expect(verdict.reason).toContain(verdict.until.toISOString());
  });

  it('words a secondary limit as the operator reads it', () => {
    expect(classify({ status: 403, headers: { 'retry-after': '120' } }).reason).toBe(
      "GitHub's secondary rate limit: retry-after 120 s; waiting 121 s, until 2025-03-01T12:02:01.000Z",
    );
  });

  it('backs off a limit without a wait time that keeps coming: 60 s, 120 s, 240 s, … at most 15 min', () => {
    const secondary = { status: 403, message: 'You have exceeded a secondary rate limit.' };
    const delays = [0, 1, 2, 3, 4, 5, 40].map((n) =>
      delayOf(classify({ ...secondary, rateLimitedBefore: n })),
    );
    expect(delays).toEqual([60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000]);
    expect(classify({ ...secondary, rateLimitedBefore: 2 }).reason).toContain('rate-limited 2 times before');
    // retry-after is GitHub's word and is followed as is, however often the job was limited.
    expect(delayOf(classify({ status: 429, headers: { 'retry-after': '5' }, rateLimitedBefore: 7 }))).toBe(
      6_000,
    );
    // Nonsense counts as never before.
    expect(delayOf(classify({ ...secondary, rateLimitedBefore: -3 }))).toBe(60_000);
    expect(delayOf(classify({ ...secondary, rateLimitedBefore: NaN }))).toBe(60_000);
  });

  it('says which limit it was, for the metric', () => {
    expect(classify({ status: 403, headers: { 'retry-after': '1' } })).toMatchObject({ limit: 'secondary' });
    expect(classify({ status: 429, headers: exhausted(10) })).toMatchObject({ limit: 'primary' });
  });

  it('does not count rate limits against the attempt limit', () => {
    expect(classify({ status: 429, headers: { 'retry-after': '5' }, attempt: 50 }).kind).toBe('rate_limited');
  });
});

describe('classifyGitHubFailure: transient and permanent', () => {
  it.each<[number | undefined, number, number]>([
    [500, 1, 1_000],
    [502, 2, 2_000],
    [503, 3, 4_000],
    [undefined, 4, 8_000],
    [504, 7, 64_000],
  ])('status %s after attempt %i backs off %i ms', (status, attempt, delayMs) => {
    expect(classify({ status, attempt, message: 'socket hang up' })).toMatchObject({
      kind: 'transient',
      delayMs,
    });
  });

  it('spreads the backoff by ±20 % with the given jitter', () => {
    expect(delayOf(classify({ status: 502, attempt: 3, jitter: 0 }))).toBe(3_200);
    expect(delayOf(classify({ status: 502, attempt: 3, jitter: 0.75 }))).toBeCloseTo(4_400);
    expect(delayOf(classify({ status: 502, attempt: 3, jitter: Number.NaN }))).toBe(4_000);
  });

  it('caps the backoff at 15 minutes', () => {
    const verdict = classify({ status: 503, attempt: 15, maxTransientAttempts: 20, jitter: 0.99 });
    expect(verdict).toMatchObject({ kind: 'transient', delayMs: TRANSIENT_MAX_DELAY_MS });
  });

  it('gives up after maxTransientAttempts, saying how many attempts were made', () => {
    expect(classify({ status: 503, attempt: 7 }).kind).toBe('transient');
    const verdict = classify({ status: 503, attempt: 8 });
    expect(verdict.kind).toBe('permanent');
    expect(verdict.reason).toContain('gave up after 8 attempts');
    expect(classify({ attempt: 3, maxTransientAttempts: 3 })).toMatchObject({ kind: 'permanent' });
  });

  it('retries a 401 once, in case the installation token had just expired', () => {
    expect(classify({ status: 401, attempt: 1 })).toMatchObject({ kind: 'transient', delayMs: 1_000 });
    const verdict = classify({ status: 401, attempt: 2, message: 'Bad credentials' });
    expect(verdict.kind).toBe('permanent');
    expect(verdict.reason).toContain('Bad credentials');
  });

  it.each([404, 410, 422, 400])('treats %i as permanent at once', (status) => {
    expect(classify({ status, message: 'Not Found' }).kind).toBe('permanent');
  });

  it('treats a 403 without a rate-limit sign as permanent, even with the ever-present reset header', () => {
    const headers = {
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': resetIn(300),
      'retry-after': 'x',
    };
    const verdict = classify({ status: 403, headers, message: 'Resource not accessible by integration' });
    expect(verdict.kind).toBe('permanent');
    expect(verdict.reason).toContain('Resource not accessible by integration');
  });
});

describe('classifyGitHubFailure: arbitrary input', () => {
  const name = fc
    .tuple(
      fc.constantFrom('retry-after', 'x-ratelimit-remaining', 'x-ratelimit-reset'),
      fc.array(fc.boolean()),
    )
    .map(([n, upper]) => [...n].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));
  const text = fc.oneof(
    fc.string(),
    fc.nat().map(String),
    fc.double().map(String),
    fc.bigInt().map(String),
    fc.integer({ min: 1.6e9, max: 2.1e9 }).map(String),
  );
  const headers = fc.dictionary(
    fc.oneof(name, fc.string()),
    fc.oneof(text, fc.array(text), fc.constant(undefined)),
  );
  const input = fc.record(
    {
      status: fc.oneof(fc.constant(undefined), fc.constantFrom(401, 403, 404, 429, 500, 503), fc.integer()),
      headers,
      now: fc.oneof(fc.integer({ min: 1.6e12, max: 2.1e12 }), fc.double()),
      attempt: fc.oneof(fc.integer({ min: -5, max: 100 }), fc.double()),
      message: fc.string(),
      jitter: fc.double(),
      maxTransientAttempts: fc.oneof(fc.integer({ min: -5, max: 100 }), fc.double()),
    },
    { requiredKeys: ['now', 'attempt'] },
  );

  it('never throws and keeps every delay finite, non-negative and within its cap', () => {
    fc.assert(
      fc.property(input, (i) => {
        const verdict = classifyGitHubFailure(i);
        expect(verdict.reason).not.toMatch(/[\n\r]/);
        if (verdict.kind === 'permanent') return;
        const cap = verdict.kind === 'rate_limited' ? RATE_LIMIT_MAX_DELAY_MS : TRANSIENT_MAX_DELAY_MS;
        expect(Number.isFinite(verdict.delayMs)).toBe(true);
        expect(verdict.delayMs).toBeGreaterThanOrEqual(verdict.kind === 'rate_limited' ? 1_000 : 0);
        expect(verdict.delayMs).toBeLessThanOrEqual(cap);
      }),
      { numRuns: 3000 },
    );
  });
});
