import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/core/duration.ts';
import { answerMayBeLost, failureMessage } from '../../src/core/renewal-messages.ts';
import { expiryNear, renewalDue, retryDelay } from '../../src/core/renewal-schedule.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const notBefore = new Date('2026-01-01T00:00:00Z');
/** A 300-day certificate: a third is 100 days, a tenth 30. */
const validity = { notBefore, notAfter: new Date(notBefore.getTime() + 300 * DAY) };
const at = (daysLeft: number) => new Date(validity.notAfter.getTime() - daysLeft * DAY);

describe('parseDuration', () => {
  it.each([
    ['30d', 30 * DAY],
    ['12h', 12 * HOUR],
    ['90m', 90 * 60_000],
    ['45s', 45_000],
    ['2w', 14 * DAY],
    ['1d12h', 36 * HOUR],
    ['400d', 400 * DAY],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toStrictEqual({ ok: true, ms });
  });

  it.each([
    '',
    '30',
    'd',
    '30 d',
    '30D',
    '-1d',
    '1.5d',
    '30days',
    'd30',
    '1d 2h',
    '0d',
    '0h0m',
    '99999999d',
    '١٢h',
  ])('refuses %j with a message that shows the form', (text) => {
    const parsed = parseDuration(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(/duration|zero|100 years/);
  });
});

describe('formatDuration', () => {
  it.each([
    [243 * DAY + 5 * HOUR, '243 days'],
    [6 * DAY + 4 * HOUR, '6 days 4 h'],
    [1 * DAY, '1 day'],
    [3 * HOUR + 12 * 60_000, '3 h 12 min'],
    [2 * HOUR, '2 h'],
    [12 * 60_000 + 5_000, '12 min'],
    [40_000, '40 s'],
    [-5 * DAY, '5 days'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('renewalDue', () => {
  it.each<[string, number, { beforeMs?: number; jitter: number }, boolean, number]>([
    // [what, days left now, options, due, days left at dueAt]
    ['default, just over a third left', 100.01, { jitter: 0 }, false, 100],
    ['default, a third left', 100, { jitter: 0 }, true, 100],
    ['default, fresh certificate', 299, { jitter: 0.999 }, false, 129.97],
    ['default, largest jitter is a tenth earlier', 129.9, { jitter: 0.999 }, true, 129.97],
    ['default, half jitter', 116, { jitter: 0.5 }, false, 115],
    ['default, half jitter, due', 115, { jitter: 0.5 }, true, 115],
    ['--before 30d, not yet', 31, { beforeMs: 30 * DAY, jitter: 0.9 }, false, 30],
    ['--before 30d, due (no jitter)', 30, { beforeMs: 30 * DAY, jitter: 0.9 }, true, 30],
    ['--before longer than the lifetime', 299, { beforeMs: 400 * DAY, jitter: 0 }, true, 400],
    ['expired', -1, { jitter: 0 }, true, 100],
  ])('%s', (_, daysLeft, options, due, dueDaysLeft) => {
    const verdict = renewalDue(validity, at(daysLeft), options);
    expect(verdict.due).toBe(due);
    expect((validity.notAfter.getTime() - verdict.dueAt.getTime()) / DAY).toBeCloseTo(dueDaysLeft, 1);
    expect(verdict.leftMs).toBeCloseTo(daysLeft * DAY, -3);
    expect(verdict.expired).toBe(daysLeft <= 0);
  });

  it('keeps a jitter outside [0, 1) within the tenth', () => {
    expect(renewalDue(validity, at(200), { jitter: 7 }).dueAt).toStrictEqual(at(130));
    expect(renewalDue(validity, at(200), { jitter: -1 }).dueAt).toStrictEqual(at(100));
  });
});

describe('expiryNear', () => {
  const year = { notBefore, notAfter: new Date(notBefore.getTime() + 365 * DAY) };
  const week = { notBefore, notAfter: new Date(notBefore.getTime() + 20 * DAY) };
  it.each<[string, typeof year, number, boolean]>([
    ['a year-long certificate, 37 days left', year, 37, false],
    ['a year-long certificate, 36 days left (a tenth)', year, 36, true],
    ['a 20-day certificate, 7.1 days left', week, 7.1, false],
    ['a 20-day certificate, 6.9 days left (7 days)', week, 6.9, true],
    ['expired', year, -2, true],
  ])('%s', (_, v, daysLeft, near) => {
    expect(expiryNear(v, new Date(v.notAfter.getTime() - daysLeft * DAY))).toBe(near);
  });
});

describe('retryDelay', () => {
  it.each([
    [1, 60_000],
    [2, 120_000],
    [3, 240_000],
    [6, 1_920_000],
    [7, 3_600_000],
    [100, 3_600_000],
    [0, 60_000],
  ])('after %d failures waits %d ms', (failures, ms) => {
    expect(retryDelay(failures)).toBe(ms);
  });

  it('takes other bounds (the tests of the daemon use short ones)', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 10, 50))).toStrictEqual([10, 20, 40, 50]);
  });
});

describe('failureMessage', () => {
  it.each([
    [
      { code: 'certificate_disabled', status: 403 },
      /disabled \(leaked\?\): upload a new CSR on the dashboard/,
    ],
    [
      { code: 'certificate_expired', status: 403 },
      /impossible once it has: upload a new CSR on the dashboard/,
    ],
    [
      { code: 'no_consent', status: 403 },
      /consent .* no longer in force.*upload a new CSR.*approves it on a ticket/,
    ],
    [{ code: 'line_withdrawn', status: 403 }, /withdrawn/],
    [{ code: 'not_current', status: 403 }, /newer certificate is already on this line/],
    [{ code: 'key_reused', status: 422 }, /seen the new key before.*run again/],
    [{ code: 'certificate_unknown', status: 401 }, /does not know this certificate.*--url/],
    [
      { code: 'tls_untrusted', detail: 'SELF_SIGNED_CERT_IN_CHAIN' },
      /not trusted: pass --ca .*wrong --ca\?.*\(SELF_SIGNED_CERT_IN_CHAIN\)/,
    ],
    [
      { code: 'server_unreachable', detail: 'ECONNREFUSED 127.0.0.1:9' },
      /cannot reach.*RENEW_PORT.*\(ECONNREFUSED 127\.0\.0\.1:9\)/,
    ],
    [
      { code: 'key_too_small', status: 422, serverMessage: 'use 4096 bits' },
      /^key_too_small: the server's CSR policy refused.*— server: use 4096 bits$/,
    ],
    [{ code: 'internal', status: 503 }, /^internal: the renewal server failed/],
    [{ code: 'odd', status: 409 }, /^odd: the server refused the renewal \(HTTP 409\)$/],
  ])('%j', (failure, text) => {
    expect(failureMessage(failure)).toMatch(text);
  });

  it('starts with the code, so scripts and people can grep for it', () => {
    expect(failureMessage({ code: 'no_consent' })).toMatch(/^no_consent: /);
  });
});

describe('answerMayBeLost', () => {
  it.each([
    ['timeout', true],
    ['server_error', true],
    ['unexpected_answer', true],
    ['server_unreachable', true],
    ['key_reused', false],
    ['certificate_disabled', false],
    ['answer_rejected', false],
    ['tls_untrusted', false],
  ])('%s: %s', (code, lost) => {
    expect(answerMayBeLost(code)).toBe(lost);
  });
});
