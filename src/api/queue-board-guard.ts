import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { QUEUE_NAMES, type QueueName, type Queues } from '../queue/queues.ts';
import { sendError } from './http-errors.ts';

/**
 * The board's pages may load only what the service itself serves: Bull Board's page asks a font
 * host on the internet for its fonts, which would tell that host who opens the board (and fails
 * on a closed network); the system fonts do as well. Inline styles are the board's own.
 */
export const QUEUE_BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const RETRY_ALL_FAILED = /^\/api\/queues\/([^/]+)\/retry\/failed\/?$/;
const RETRY_ONE = /^\/api\/queues\/([^/]+)\/([^/]+)\/retry\/?$/;

/**
 * Nedap support watches the queues (product.md, "Queues"); the one change the board may make is
 * to retry failed jobs, which re-runs work the service itself queued. Everything else the board's
 * API offers is refused here: adding or editing a job would sign a request nobody approved or
 * post text as the bot, and emptying, cleaning or obliterating a queue would lose approvals.
 * A completed job is not retried either: its comment or certificate exists already.
 */
export function queueBoardGuard(queues: Queues): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    res.set('Content-Security-Policy', QUEUE_BOARD_CSP);
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    if (req.method === 'PUT') {
      const all = RETRY_ALL_FAILED.exec(req.path);
      if (all && queueNamed(all[1]!)) return next();
      const one = RETRY_ONE.exec(req.path);
      const name = one ? queueNamed(one[1]!) : undefined;
      if (one && name) {
        const jobId = decoded(one[2]!) ?? '';
        const state = await queues[name].getJobState(jobId).catch(() => undefined);
        if (state === 'failed') return next();
        if (state === undefined || state === 'unknown') {
          return sendError(res, 404, 'job_not_found', `there is no job ${jobId} in the ${name} queue`);
        }
        return sendError(
          res,
          409,
          'job_not_failed',
          `job ${jobId} of the ${name} queue is ${state}: only a failed job can be retried from the board`,
        );
      }
    }
    res.set('Allow', 'GET, HEAD, PUT');
    sendError(
      res,
      405,
      'board_read_only',
      'the queue board is for watching; the only change it makes is retrying failed jobs ' +
        '(jobs are added, changed and removed by the service alone)',
    );
  };
}

function queueNamed(segment: string): QueueName | undefined {
  const name = decoded(segment);
  return (QUEUE_NAMES as readonly string[]).find((known) => known === name) as QueueName | undefined;
}

/** A path segment decoded, or undefined when its %-escapes are broken. */
function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
