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
