import { endSession as recordEndedSession, sessionSupplier } from '../db/repositories/sessions.ts';
import type { ServiceContext } from './context.ts';

/**
 * The supplier a signed-in web session acts for, asked on every page request: undefined when
 * the supplier no longer exists, and `ended` when the session was signed out (a copy of its
 * cookie must not count). One query for both.
 */
export function signedInSupplier(
  ctx: Pick<ServiceContext, 'db'>,
  supplierId: string,
  nonce: string,
): Promise<{ id: string; name: string; ended: boolean } | undefined> {
  return sessionSupplier(ctx.db, supplierId, nonce);
}

/**
 * Signs a session out on the server: its nonce is recorded as ended until `expiresAt`, when
 * its cookie would have expired anyway.
 */
export function endSession(
  ctx: Pick<ServiceContext, 'db' | 'now'>,
  nonce: string,
  expiresAt: Date,
): Promise<void> {
  return recordEndedSession(ctx.db, nonce, expiresAt, ctx.now());
}
