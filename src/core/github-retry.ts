import { printable } from './customer-code.ts';

/** A failed GitHub API call as the job that made it sees it. */
export interface GitHubFailureInput {
  /** HTTP status; undefined when no answer arrived (network error, timeout). */
  status?: number;
  /** Response headers; names in any case, repeated headers as arrays. */
  headers?: Record<string, string | string[] | undefined>;
  /** The current time, in ms since the epoch. */
  now: number;
  /** Attempts made so far, 1-based, including the one that just failed. */
  attempt: number;
  /** GitHub's error message, if any. */
  message?: string;
  /** A number in [0, 1) drawn by the caller, so this stays pure; 0.5 means no spread. */
  jitter?: number;
  /** Transient failures tolerated before giving up; default {@link DEFAULT_MAX_TRANSIENT_ATTEMPTS}. */
  maxTransientAttempts?: number;
  /**
   * How often this job was rate-limited before (0 the first time): a limit that names no wait
   * waits 60 s, then twice as long each time, up to {@link SECONDARY_MAX_DELAY_MS}.
   */
  rateLimitedBefore?: number;
}

export type GitHubFailureVerdict =
  | { kind: 'rate_limited'; limit: 'primary' | 'secondary'; delayMs: number; until: Date; reason: string }
  | { kind: 'transient'; delayMs: number; reason: string }
  | { kind: 'permanent'; reason: string };

/** Added to rate-limit waits so a slightly fast clock does not wake the job just before the reset. */
export const RATE_LIMIT_SLACK_MS = 1_000;
export const RATE_LIMIT_MIN_DELAY_MS = 1_000;
/** GitHub's primary quota resets hourly, so a longer wait means a bad header or a bad clock. */
export const RATE_LIMIT_MAX_DELAY_MS = 60 * 60_000;
/** GitHub: without retry-after, "wait at least one minute" after a secondary rate limit. */
export const SECONDARY_DEFAULT_DELAY_MS = 60_000;
/** The longest wait for a limit that names none, however often it came (doubling from 60 s). */
export const SECONDARY_MAX_DELAY_MS = 15 * 60_000;
export const TRANSIENT_BASE_DELAY_MS = 1_000;
export const TRANSIENT_MAX_DELAY_MS = 15 * 60_000;
export const DEFAULT_MAX_TRANSIENT_ATTEMPTS = 8;

const PERMANENT: Record<number, string> = {
  404: 'the issue or repository is gone, or the app cannot see it',
  410: 'the issue or repository was deleted, or issues were turned off',
  422: 'GitHub rejects what was sent (e.g. an invalid label or a locked issue)',
};

/**
 * Decides what a job does after a failed GitHub call: wait out a rate limit (which does not count
 * against the attempts), back off after a transient failure, or stop. Pure: the caller supplies the
 * time and the jitter. Every `reason` is one line meant for the log and Bull Board.
 */
export function classifyGitHubFailure(input: GitHubFailureInput): GitHubFailureVerdict {
  const { status } = input;
  const said = input.message ? `: "${printable(input.message, 200)}"` : '';
  if (status === 403 || status === 429) {
    const limited = rateLimit(input, said);
    const why = 'the GitHub App lacks a permission or is not installed on this repository, not retrying';
    return limited ?? permanent(`GitHub refused the request (403), not a rate limit${said}; ${why}`);
  }
  if (status === 401) {
    const what = `GitHub rejected the credentials (401)${said}`;
    // An installation token may expire between being fetched and used; a second 401 is real.
    if (attemptsOf(input) >= 2) return permanent(`${what} again; check the app's ID, key and installation`);
    return transient(input, `${what}; the installation token may just have expired, so one more try`);
  }
  if (status !== undefined && status >= 400 && status < 500) {
    const why = PERMANENT[status] ?? 'a client error does not go away by retrying';
    return permanent(`GitHub answered ${status}${said}; ${why}, not retrying`);
  }
  if (status === undefined) return transient(input, `No answer from GitHub (network error)${said}`);
  if (status >= 500 && status < 600) return transient(input, `GitHub answered ${status}${said}`);
  // Unknown territory: retrying is safe because the attempt limit still applies.
  return transient(input, `GitHub answered with unexpected status ${status}${said}`);
}

function rateLimit(input: GitHubFailureInput, said: string): GitHubFailureVerdict | undefined {
  const { now } = input;
  const retryAfter = number(header(input.headers, 'retry-after'));
  // x-ratelimit-reset comes with every answer; only remaining 0 makes it a rate-limit sign.
  const exhausted = number(header(input.headers, 'x-ratelimit-remaining')) === 0;
  const reset = exhausted ? number(header(input.headers, 'x-ratelimit-reset')) : undefined;
  const waits: number[] = [];
  const signs: string[] = [];
  if (retryAfter !== undefined) {
    waits.push(retryAfter * 1000);
    signs.push(`retry-after ${retryAfter} s`);
  }
  if (reset !== undefined && Number.isFinite(reset * 1000 - now)) {
    waits.push(reset * 1000 - now);
    signs.push(`quota resets at ${iso(reset * 1000)}`);
  }
  const which = exhausted ? 'primary' : 'secondary';
  if (waits.length > 0) {
    const wanted = Math.max(0, ...waits) + RATE_LIMIT_SLACK_MS;
    const delay = Math.min(Math.max(wanted, RATE_LIMIT_MIN_DELAY_MS), RATE_LIMIT_MAX_DELAY_MS);
    const capped = wanted > RATE_LIMIT_MAX_DELAY_MS ? ' (capped at 1 hour)' : '';
    return rateLimited(now, which, delay, `GitHub's ${which} rate limit: ${signs.join(', ')}${capped}`);
  }
  const message = input.message ?? '';
  if (exhausted || input.status === 429 || /rate limit|abuse/i.test(message)) {
    const name = exhausted || /secondary|abuse/i.test(message) ? `${which} rate limit` : 'rate limit';
    // GitHub: "wait at least one minute", and longer while the limit keeps coming back.
    const before = Math.max(0, Math.floor(input.rateLimitedBefore ?? 0) || 0);
    const delay = Math.min(SECONDARY_DEFAULT_DELAY_MS * 2 ** Math.min(before, 10), SECONDARY_MAX_DELAY_MS);
    const again = before > 0 ? ` (rate-limited ${before} time${before === 1 ? '' : 's'} before)` : '';
    return rateLimited(
      now,
      which,
      delay,
      `GitHub's ${name} (${input.status}) without a readable wait time${said}${again}`,
    );
  }
  return undefined;
}

function rateLimited(
  now: number,
  limit: 'primary' | 'secondary',
  delayMs: number,
  what: string,
): GitHubFailureVerdict {
  const until = new Date(now + delayMs);
  const reason = `${what}; waiting ${Math.round(delayMs / 1000)} s, until ${iso(until.getTime())}`;
  return { kind: 'rate_limited', limit, delayMs, until, reason };
}

function transient(input: GitHubFailureInput, what: string): GitHubFailureVerdict {
  const attempt = attemptsOf(input);
  const limit = Math.floor(input.maxTransientAttempts ?? DEFAULT_MAX_TRANSIENT_ATTEMPTS);
  const max = Number.isNaN(limit) ? DEFAULT_MAX_TRANSIENT_ATTEMPTS : Math.max(1, limit);
  if (attempt >= max) return permanent(`${what}; gave up after ${attempt} attempts`);
  const j = input.jitter ?? 0.5;
  const factor = 0.8 + 0.4 * (j >= 0 && j <= 1 ? j : 0.5);
  const delayMs = Math.min(TRANSIENT_BASE_DELAY_MS * 2 ** (attempt - 1) * factor, TRANSIENT_MAX_DELAY_MS);
  const reason = `${what}; retrying in ${Math.round(delayMs / 1000)} s (attempt ${attempt} of ${max} failed)`;
  return { kind: 'transient', delayMs, reason };
}

function permanent(reason: string): GitHubFailureVerdict {
  return { kind: 'permanent', reason };
}

/** Attempts as a whole number ≥ 1; nonsense counts as the first attempt. */
function attemptsOf(input: GitHubFailureInput): number {
  return Math.max(1, Math.floor(input.attempt) || 1);
}

function header(headers: GitHubFailureInput['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    // Typed as strings, but a plain-JS caller may hand over numbers; anything else is ignored.
    const first: unknown = Array.isArray(value) ? value[0] : value;
    return typeof first === 'string' || typeof first === 'number' ? String(first) : undefined;
  }
  return undefined;
}

/** A plain non-negative decimal, as GitHub sends; signs, exponents and HTTP dates count as unreadable. */
function number(value: string | undefined): number | undefined {
  const text = value?.trim() ?? '';
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  const parsed = Number(text);
  return Number.isFinite(parsed) ? parsed : undefined;
}

function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? 'an unknown time' : date.toISOString();
}
