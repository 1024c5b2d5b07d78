import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEFAULT_WRITE_PACE,
  isContentWrite,
  nextWriteAt,
  writesWithinHour,
  type WritePace,
} from '../core/github-write-pace.ts';

/**
 * Thrown instead of sending a write that would have to wait longer than the limiter holds a
 * request (the hour's budget is spent): the `github` job goes back to delayed until `until`.
 */
export class GitHubWriteBudgetSpent extends Error {
  override name = 'GitHubWriteBudgetSpent';
  readonly until: number;
  constructor(until: number) {
    super(`GitHub's hourly write budget is spent; the next write may go at ${new Date(until).toISOString()}`);
    this.until = until;
  }
}

/** Hands out turns to write, per app installation, at the pace of {@link WritePace}. */
export interface WriteLimiter {
  /** Resolves when this installation's next write may be sent; rejects with GitHubWriteBudgetSpent. */
  turn(installation: string): Promise<void>;
  /** Throws GitHubWriteBudgetSpent when a write asked for now would wait longer than the limiter holds one. */
  checkBudget(installation: string): void;
}

export interface WriteLimiterOptions {
  now?: () => number;
  /** The longest a request waits in the limiter; longer waits are handed back to the queue. */
  maxWaitMs?: number;
}

/**
 * One process's write limiter. Turns are taken in order of asking, so a burst leaves at the
 * pace and in the order its jobs asked. The pace holds per process: the `github` queue is
 * worked by one process (WORKERS=all or worker, once), as the README says.
 */
export function createWriteLimiter(
  pace: WritePace = DEFAULT_WRITE_PACE,
  { now = Date.now, maxWaitMs = 60_000 }: WriteLimiterOptions = {},
): WriteLimiter {
  const sent = new Map<string, number[]>();
  const queues = new Map<string, Promise<void>>();
  const checkBudget = (installation: string) => {
    const times = writesWithinHour(sent.get(installation) ?? [], now());
    const at = nextWriteAt(times, now(), pace);
    if (at - now() > maxWaitMs) throw new GitHubWriteBudgetSpent(at);
    return { times, at };
  };
  const takeTurn = async (installation: string) => {
    const { times, at } = checkBudget(installation);
    if (at > now()) await sleep(at - now());
    times.push(Math.max(at, now()));
    sent.set(installation, times);
  };
  return {
    checkBudget,
    turn(installation) {
      const before = queues.get(installation) ?? Promise.resolve();
      const mine = before.then(() => takeTurn(installation));
      const settled = mine.catch(() => undefined);
      queues.set(installation, settled);
      void settled.then(() => {
        if (queues.get(installation) === settled) queues.delete(installation);
      });
      return mine;
    },
  };
}

/**
 * Node's fetch, taking a turn from `limiter` before every write of `installation`. It sits where
 * Octokit hands the request to the network (its `request.fetch`), after its own hooks (token,
 * throttling, retries), so the turns are what GitHub sees: a write held up elsewhere after its
 * turn would otherwise arrive right behind the next one.
 */
export function pacedFetch(limiter: WriteLimiter, installation: string): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (isContentWrite(method, url.pathname)) await limiter.turn(installation);
    return fetch(input, init);
  };
}

interface HookedOctokit {
  hook: {
    wrap(
      name: 'request',
      wrapper: (
        request: (options: { method: string; url: string }) => Promise<unknown>,
        options: { method: string; url: string },
      ) => Promise<unknown>,
    ): void;
  };
}

/**
 * An Octokit plugin that refuses a write at once when the hour's budget is spent, before
 * Octokit's retry plugin could take the refusal (thrown from inside fetch) for a network error
 * and try again. Probot names each installation's Octokit by its id (`throttle.id`).
 */
export function writeBudgetCheck(limiter: WriteLimiter) {
  return (octokit: HookedOctokit, options: { throttle?: { id?: string } }) => {
    const installation = options.throttle?.id ?? 'app';
    octokit.hook.wrap('request', async (request, requestOptions) => {
      const { pathname } = new URL(requestOptions.url, 'http://github.invalid');
      if (isContentWrite(requestOptions.method, pathname)) limiter.checkBudget(installation);
      return request(requestOptions);
    });
  };
}

/** The GitHubWriteBudgetSpent behind a failed request, if that is why it failed. */
export function writeBudgetSpent(error: unknown): GitHubWriteBudgetSpent | undefined {
  if (error instanceof GitHubWriteBudgetSpent) return error;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause instanceof GitHubWriteBudgetSpent ? cause : undefined;
}
