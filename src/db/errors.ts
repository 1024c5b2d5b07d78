/** The driver error under drizzle's wrapper (postgres.js and PGlite both carry `code`). */
function driverError(
  error: unknown,
): { code?: string; constraint_name?: string; constraint?: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const candidate = current as { code?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      return candidate as { code?: string; constraint_name?: string; constraint?: string };
    }
    current = candidate.cause;
  }
  return undefined;
}

/** Whether an error is PostgreSQL's unique_violation, optionally of one constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const found = driverError(error);
  if (found?.code !== '23505') return false;
  if (!constraint) return true;
  const name = found.constraint_name ?? found.constraint;
  return name === undefined || name === constraint;
}

/**
 * Whether an error is PostgreSQL's foreign_key_violation: e.g. a row written for a line that a
 * concurrent transaction deleted meanwhile.
 */
export function isForeignKeyViolation(error: unknown): boolean {
  return driverError(error)?.code === '23503';
}

/**
 * Runs `work`, running it again when a unique constraint lost a race (the retry sees the winner).
 * `onRetry` hears of each lost race, with the constraint's name when the driver gives it.
 */
export async function retryOnUniqueViolation<T>(
  work: () => Promise<T>,
  onRetry?: (constraint: string | undefined) => void,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isUniqueViolation(error)) throw error;
      const found = driverError(error);
      onRetry?.(found?.constraint_name ?? found?.constraint);
    }
  }
}

/**
 * Codes of a connection that failed under a statement: the driver's own (postgres.js), the
 * socket's, and PostgreSQL's class 08 (connection exception) and 57P01–57P03 (the server shut
 * down or is starting). After a database restart the pool's idle connections are dead, and the
 * next statement on each fails this way although PostgreSQL is back.
 */
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  '57P01',
  '57P02',
  '57P03',
]);

/** Whether an error (or one it wraps) is a failed connection rather than a refused statement. */
export function isConnectionFailure(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    current = cause;
  }
  return false;
}

/** Waits before each further attempt: the whole series stays well inside GitHub's 10 s webhook timeout. */
export const CONNECTION_RETRY_DELAYS_MS = [250, 1000, 2500];

/**
 * Runs `work`, and again after each delay while it fails on a dead or refused connection (the
 * pool opens a new one). Only for work that may run twice: a failure may come after the
 * statement took effect, when its answer was lost.
 */
export async function retryOnConnectionFailure<T>(
  work: () => Promise<T>,
  onRetry?: (error: unknown, delayMs: number) => void,
  delaysMs: readonly number[] = CONNECTION_RETRY_DELAYS_MS,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const delay = delaysMs[attempt];
      if (delay === undefined || !isConnectionFailure(error)) throw error;
      onRetry?.(error, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
