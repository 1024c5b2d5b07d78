/** A certificate's validity period. */
export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/** Without `--before`, renewal is due once a third of the lifetime is left... */
export const DEFAULT_LEFT_FRACTION = 1 / 3;
/** ...or up to a tenth of the lifetime earlier, so connectors do not all renew at once. */
export const JITTER_FRACTION = 1 / 10;

export interface DueOptions {
  /** `--before`: renew once less than this is left (no jitter: the operator chose the time). */
  beforeMs?: number;
  /**
   * A number in [0, 1) for the default's spread: 0 renews at a third of the lifetime left,
   * values towards 1 up to a tenth of the lifetime earlier. Chosen by the caller (pure here).
   */
  jitter: number;
}

export interface DueVerdict {
  due: boolean;
  /** From when renewal is due. */
  dueAt: Date;
  /** Time left until notAfter (negative once expired). */
  leftMs: number;
  expired: boolean;
}

/** Whether a certificate is due for renewal at `now`, and from when it is. */
export function renewalDue(validity: Validity, now: Date, options: DueOptions): DueVerdict {
  const lifetime = Math.max(0, validity.notAfter.getTime() - validity.notBefore.getTime());
  const jitter = Math.min(Math.max(options.jitter, 0), 1);
  const leadMs = options.beforeMs ?? lifetime * DEFAULT_LEFT_FRACTION + lifetime * JITTER_FRACTION * jitter;
  const dueAt = new Date(validity.notAfter.getTime() - leadMs);
  const leftMs = validity.notAfter.getTime() - now.getTime();
  return { due: now.getTime() >= dueAt.getTime(), dueAt, leftMs, expired: leftMs <= 0 };
}

/** Expiry is near when less than this is left (or less than a tenth of the lifetime). */
export const NEAR_EXPIRY_MS = 7 * 86_400_000;

/**
 * Whether a failed renewal deserves a warning: less than 7 days or a tenth of the lifetime
 * left, whichever is more. By then renewal has been due for weeks (a third of the lifetime),
 * so it has been failing or not running at all.
 */
export function expiryNear(validity: Validity, now: Date): boolean {
  const lifetime = validity.notAfter.getTime() - validity.notBefore.getTime();
  const left = validity.notAfter.getTime() - now.getTime();
  return left < Math.max(NEAR_EXPIRY_MS, lifetime / 10);
}

/** The daemon's first retry after a failure, doubling up to {@link RETRY_MAX_MS}. */
export const RETRY_FIRST_MS = 60_000;
export const RETRY_MAX_MS = 3_600_000;

/** How long the daemon waits after `failures` failures in a row (1-based): 1 min, 2, 4, ... 1 h. */
export function retryDelay(failures: number, firstMs = RETRY_FIRST_MS, maxMs = RETRY_MAX_MS): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  return Math.min(firstMs * 2 ** exponent, maxMs);
}
