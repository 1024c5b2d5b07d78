import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { attemptKey } from '../core/client-address.ts';
import type { Logger } from '../log.ts';

/** Where a wrong token was presented: the API (a bearer or basic token) or the sign-in form. */
export type AuthFailureKind = 'api_token' | 'sign_in';

/**
 * Failed attempts a client address may make in AUTH_FAILURE_WINDOW_SECONDS, counted from its
 * first failure; then every attempt from it waits until the window is over. Ten a minute stops a
 * script (it made 1,200 a second) and leaves room for someone who mistypes or pastes the wrong
 * token a few times. Sign-ins and API tokens share the allowance: a guess is a guess.
 */
export const AUTH_FAILURES_ALLOWED = 10;
export const AUTH_FAILURE_WINDOW_SECONDS = 60;

/**
 * Failed sign-ins and wrong tokens, counted and slowed per client address. Only failures count:
 * a valid token costs one read. An address over its allowance is refused before its token is
 * even looked at, a valid one too, so that a guess cannot be confirmed while the address waits;
 * other addresses are not affected.
 */
export interface AuthThrottle {
  /**
   * Seconds until `address` may try again when it failed too often (counted as throttled), or
   * undefined when it may try now.
   */
  waitFor(address: string | undefined, kind: AuthFailureKind): Promise<number | undefined>;
  /** Counts a wrong token presented from `address`. */
  failed(address: string | undefined, kind: AuthFailureKind): Promise<void>;
}

export interface AuthThrottleOptions {
  /**
   * The service's Redis, shared by all its web processes, so that the count holds whichever
   * process answers. A connection of its own that fails fast (no offline queue): while Redis is
   * away, each process counts in memory instead.
   */
  redis: Redis;
  /** QUEUE_PREFIX: deployments (and tests) sharing a Redis keep separate counts. */
  prefix: string;
  log: Logger;
  onFailure?: (kind: AuthFailureKind) => void;
  onThrottled?: (kind: AuthFailureKind) => void;
  allowed?: number;
  windowSeconds?: number;
}

/** The throttle on rate-limiter-flexible: RateLimiterRedis, with RateLimiterMemory as its insurance. */
export function createAuthThrottle(options: AuthThrottleOptions): AuthThrottle {
  const points = options.allowed ?? AUTH_FAILURES_ALLOWED;
  const duration = options.windowSeconds ?? AUTH_FAILURE_WINDOW_SECONDS;
  const keyPrefix = `${options.prefix}:auth-failures`;
  const limiter: RateLimiterAbstract = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix,
    points,
    duration,
    // Redis not answering: the insurance at once, rather than a sign-in waiting for Redis.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
  });
  return {
    async waitFor(address, kind) {
      try {
        const state = await limiter.get(attemptKey(address));
        if (!state || state.consumedPoints < points) return undefined;
        options.onThrottled?.(kind);
        return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
      } catch (error) {
        // Not expected (the insurance answers when Redis does not); a sign-in is not refused for it.
        options.log.warn({ err: error }, 'the sign-in throttle could not be read');
        return undefined;
      }
    },
    async failed(address, kind) {
      options.onFailure?.(kind);
      const key = attemptKey(address);
      try {
        const state = await limiter.consume(key);
        // One line per address and window, when its allowance runs out (never the token).
        if (state.remainingPoints === 0) {
          options.log.warn(
            { client: key, kind, failures: points, windowSeconds: duration },
            'too many wrong tokens from one address: its attempts wait until the window is over',
          );
        }
      } catch (rejected) {
        // A consume over the allowance rejects with the limiter's state: expected, not an error.
        if (rejected instanceof Error)
          options.log.warn({ err: rejected }, 'a failed sign-in could not be counted');
      }
    },
  };
}
