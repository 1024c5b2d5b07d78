import { isConnectionFailure, retryOnConnectionFailure } from '../db/errors.ts';

/**
 * Whether a failure is the database not answering (a restart, a dead or refused connection)
 * rather than a refused statement or a bug: the same work soon succeeds again. Routes answer
 * it with 503 `database_unavailable` instead of 500.
 */
export function isDatabaseOutage(error: unknown): boolean {
  return isConnectionFailure(error);
}

/**
 * Runs `work`, and again after each delay while the database does not answer (the pool opens
 * a new connection). Only for work that may run twice: a failure may come after the work took
 * effect, when its answer was lost. `onRetry` hears of each attempt to come.
 */
export function retryOnDatabaseOutage<T>(
  work: () => Promise<T>,
  onRetry?: (error: unknown, delayMs: number) => void,
): Promise<T> {
  return retryOnConnectionFailure(work, onRetry);
}
