import type { Response } from 'express';
import type { Failure, Outcome } from '../services/outcome.ts';

/** `{"errors":[{code, message}]}` with the status interfaces.md gives each kind of failure. */
export function sendFailures(res: Response, failures: Failure[]): void {
  const status = failures.some((f) => f.code === 'not_found') ? 404 : 422;
  res
    .status(status)
    .json({ errors: status === 404 ? failures.filter((f) => f.code === 'not_found') : failures });
}

export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ errors: [{ code, message }] });
}

/** Sends a value with `status`, or the failures. */
export function sendOutcome<T>(
  res: Response,
  outcome: Outcome<T>,
  status = 200,
  view: (v: T) => unknown = (v) => v,
): void {
  if (outcome.ok) res.status(status).json(view(outcome.value));
  else sendFailures(res, outcome.failures);
}
