/**
 * GitHub's secondary rate limits allow about 80 content-creating requests a minute and 500 an
 * hour per app installation. Octokit's own throttling spaces comments 3 s apart (20 a minute)
 * whatever else is sent, which made a comment-plus-PATCH approval wait for the comment queue
 * alone: at 2 writes per approval GitHub would allow 40 approvals a minute, Octokit sent 20.
 * This is the pace we keep instead: every mutating request of one installation, comment or
 * not, at most `perMinute` in any minute (evenly spaced) and `perHour` in any hour.
 */
export interface WritePace {
  /** Writes in any 60 s; they are also spaced 60 s / perMinute apart. */
  perMinute: number;
  /** Writes in any hour. */
  perHour: number;
}

/** 75 of GitHub's ~80 a minute (some slack for clocks and retries), and GitHub's 500 an hour. */
export const DEFAULT_WRITE_PACE: WritePace = Object.freeze({ perMinute: 75, perHour: 500 });

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * The earliest time (ms) at which the next write may be sent, given the send times of the
 * writes before it (ascending; older than an hour may be left out). Pure.
 */
export function nextWriteAt(sent: readonly number[], now: number, pace: WritePace): number {
  let at = now;
  const last = sent.at(-1);
  if (last !== undefined) at = Math.max(at, last + Math.ceil(MINUTE_MS / pace.perMinute));
  // The n-th last write leaves the window when it is a minute (an hour) old.
  const minuteOldest = sent.at(-pace.perMinute);
  if (sent.length >= pace.perMinute && minuteOldest !== undefined)
    at = Math.max(at, minuteOldest + MINUTE_MS);
  const hourOldest = sent.at(-pace.perHour);
  if (sent.length >= pace.perHour && hourOldest !== undefined) at = Math.max(at, hourOldest + HOUR_MS);
  return at;
}

/** The send times still relevant at `now` (the last hour's), for the next {@link nextWriteAt}. */
export function writesWithinHour(sent: readonly number[], now: number): number[] {
  const from = sent.findIndex((t) => t > now - HOUR_MS);
  return from === -1 ? [] : sent.slice(from);
}

/**
 * True for requests that GitHub counts as writes; an app's own token requests are not content.
 * `path` may carry GitHub Enterprise Server's `/api/v3` prefix.
 */
export function isContentWrite(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD') return false;
  return !/^(\/api\/v3)?\/(app|applications)\/|^\/login\/oauth\//.test(path);
}
