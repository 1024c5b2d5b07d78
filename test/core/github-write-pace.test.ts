import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WRITE_PACE,
  isContentWrite,
  nextWriteAt,
  writesWithinHour,
} from '../../src/core/github-write-pace.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const pace = { perMinute: 75, perHour: 500 };

describe('nextWriteAt', () => {
  it.each([
    ['no write before: now', [], 1_000_000, 1_000_000],
    ['the last write long ago: now', [0], 1_000_000, 1_000_000],
    ['spaced a minute / 75 = 800 ms after the last', [1_000_000], 1_000_100, 1_000_800],
    ['exactly at the spacing: now', [1_000_000], 1_000_800, 1_000_800],
  ])('%s', (_what, sent, now, expected) => {
    expect(nextWriteAt(sent, now, pace)).toBe(expected);
  });

  it('never more than perMinute in any minute, even when they came in a rush before', () => {
    // 3 a minute allowed, spaced 20 s; three written 1 s apart (e.g. under another pace) wait out the minute.
    expect(nextWriteAt([0, 1_000, 2_000], 2_500, { perMinute: 3, perHour: 100 })).toBe(MIN);
  });

  it('never more than perHour in any hour: the 501st waits until the first is an hour old', () => {
    const sent = Array.from({ length: 500 }, (_, i) => 1_000_000 + i * 800);
    const now = sent.at(-1)! + 800;
    expect(nextWriteAt(sent, now, pace)).toBe(1_000_000 + HOUR);
    // With one write fewer the spacing alone decides.
    expect(nextWriteAt(sent.slice(1), now, pace)).toBe(now);
  });

  it('a burst of 40 writes at the default pace takes 31.2 s: 75 a minute, under GitHub 80', () => {
    const sent: number[] = [];
    for (let i = 0; i < 40; i++) sent.push(nextWriteAt(sent, 0, DEFAULT_WRITE_PACE));
    expect(sent.at(-1)).toBe(39 * 800);
    const inAnyMinute = Math.max(...sent.map((t) => sent.filter((u) => u >= t && u < t + MIN).length));
    expect(inAnyMinute).toBeLessThanOrEqual(75);
  });
});

describe('writesWithinHour', () => {
  it('keeps the last hour only', () => {
    expect(writesWithinHour([0, 10, HOUR + 5, HOUR + 20], HOUR + 10)).toEqual([HOUR + 5, HOUR + 20]);
    expect(writesWithinHour([0, 10], 3 * HOUR)).toEqual([]);
  });
});

describe('isContentWrite', () => {
  it.each([
    ['POST', '/repos/o/r/issues/5/comments', true],
    ['PATCH', '/repos/o/r/issues/5', true],
    ['POST', '/repos/o/r/issues/5/labels', true],
    ['DELETE', '/repos/o/r/issues/5/labels/x', true],
    ['GET', '/repos/o/r/issues/5', false],
    ['HEAD', '/repos/o/r', false],
    ['POST', '/app/installations/7/access_tokens', false],
    ['POST', '/applications/abc/token', false],
    ['POST', '/login/oauth/access_token', false],
    ['POST', '/api/v3/app/installations/7/access_tokens', false],
    ['POST', '/api/v3/repos/o/r/issues/5/comments', true],
  ])('%s %s: %s', (method, path, expected) => {
    expect(isContentWrite(method, path)).toBe(expected);
  });
});
