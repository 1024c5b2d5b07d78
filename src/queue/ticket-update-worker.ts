import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { writeBudgetSpent } from '../bot/github-write-limiter.ts';
import { runOperation, type OctokitForInstallation } from '../bot/ticket-operations.ts';
import { classifyGitHubFailure } from '../core/github-retry.ts';
import type { Logger } from '../log.ts';
import { addFollowUp } from './enqueue.ts';
import type { TicketUpdateJob } from './jobs.ts';
import type { Queues } from './queues.ts';

/** A GitHub failure worth another try after `delayMs` (BullMQ's custom backoff reads it). */
export class GitHubRetryableError extends Error {
  override name = 'GitHubRetryableError';
  readonly delayMs: number;

  constructor(message: string, delayMs: number) {
    super(message);
    this.delayMs = delayMs;
  }
}

export interface TicketUpdateDeps {
  octokitFor: OctokitForInstallation;
  /** Where a finished update's follow-up is queued. */
  queues: Queues;
  appId: number;
  log: Logger;
  random?: () => number;
  /** Called for each rate limit GitHub answers (a /metrics counter). */
  onRateLimited?: (limit: 'primary' | 'secondary') => void;
}

/**
 * Runs the operations of a `github` job in order; when one fails, the progress is recorded so
 * that the retry resumes there. A rate limit moves the job back to delayed until
 * GitHub allows more (without using up an attempt); a transient failure is retried with backoff;
 * a permanent one fails the job with the reason for Bull Board.
 */
export function processTicketUpdate(deps: TicketUpdateDeps) {
  return async (job: Job<TicketUpdateJob>, token?: string): Promise<{ operations: number }> => {
    const { ticket, operations } = job.data;
    const log = deps.log.child({ job: job.id, ticket: `${ticket.owner}/${ticket.repo}#${ticket.number}` });
    let done = job.data.done ?? 0;
    const octokit = await deps.octokitFor(ticket.installationId);
    try {
      for (; done < operations.length; done++) {
        const operation = operations[done]!;
        const mayHaveRun = done === (job.data.done ?? 0) && (job.attemptsStarted > 1 || job.attemptsMade > 0);
        await runOperation({ octokit, ticket, appId: deps.appId, mayHaveRun }, operation);
      }
      await addFollowUp(deps.queues, job.data);
    } catch (error) {
      const spent = writeBudgetSpent(error);
      if (spent) {
        // Our own pace, not GitHub's refusal: wait without using up an attempt.
        await job.updateData({ ...job.data, done }).catch(() => undefined);
        log.info({ until: new Date(spent.until) }, spent.message);
        await job.moveToDelayed(spent.until, token);
        throw new DelayedError(spent.message);
      }
      const failure = error as {
        status?: number;
        response?: { headers?: Record<string, string> };
        message?: string;
      };
      const verdict = classifyGitHubFailure({
        status: failure.status,
        headers: failure.response?.headers,
        message: failure.message,
        now: Date.now(),
        attempt: job.attemptsMade + 1,
        jitter: (deps.random ?? Math.random)(),
        rateLimitedBefore: job.data.rateLimited ?? 0,
      });
      const rateLimited = (job.data.rateLimited ?? 0) + (verdict.kind === 'rate_limited' ? 1 : 0);
      // Progress is saved when a step fails, not after each step (Redis round trips on the hot
      // path). A worker that dies mid-way repeats steps on the next attempt: each is harmless
      // to repeat, and a comment is looked for before it is posted again.
      await job.updateData({ ...job.data, done, rateLimited }).catch(() => undefined);
      const step =
        done < operations.length
          ? `${operations[done]!.op} ${done + 1} of ${operations.length}`
          : 'queueing the follow-up';
      if (verdict.kind === 'rate_limited') {
        deps.onRateLimited?.(verdict.limit);
        // Delayed, not failed: no attempt is used up, however long GitHub keeps saying wait.
        log.warn({ until: verdict.until }, `${step}: ${verdict.reason}`);
        await job.moveToDelayed(Date.now() + verdict.delayMs, token);
        throw new DelayedError(verdict.reason);
      }
      if (verdict.kind === 'transient') {
        log.warn(`${step}: ${verdict.reason}`);
        throw new GitHubRetryableError(verdict.reason, verdict.delayMs);
      }
      log.error(`${step}: ${verdict.reason}`);
      throw new UnrecoverableError(verdict.reason);
    }
    return { operations: operations.length };
  };
}

/** BullMQ's backoff for `github` jobs: the delay the failure's classification chose. */
export function githubBackoff(attemptsMade: number, _type?: string, error?: Error): number {
  if (error instanceof GitHubRetryableError) return error.delayMs;
  return Math.min(1000 * 2 ** Math.max(0, attemptsMade - 1), 15 * 60_000);
}
