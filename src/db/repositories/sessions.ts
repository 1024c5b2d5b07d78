import { eq, lte, sql } from 'drizzle-orm';
import type { Executor } from '../database.ts';
import { endedSessions, suppliers } from '../schema.ts';

/**
 * The supplier a signed-in session acts for, read on every page request: undefined when the
 * supplier no longer exists, and `ended` when the session was signed out (its cookie may still
 * be around, copied or kept by a browser: it must not count). One query for both.
 */
export async function sessionSupplier(
  db: Executor,
  supplierId: string,
  nonce: string,
): Promise<{ id: string; name: string; ended: boolean } | undefined> {
  const [row] = await db
    .select({
      id: suppliers.id,
      name: suppliers.name,
      ended: sql<boolean>`exists (select 1 from ${endedSessions} where ${endedSessions.nonce} = ${nonce})`,
    })
    .from(suppliers)
    .where(eq(suppliers.id, supplierId));
  return row;
}

/**
 * Records that a session was signed out, until the time its cookie would have expired anyway.
 * The rows of sessions that have expired by now are deleted on the way: sign-outs are few, and
 * this keeps the table to the sessions of the last SESSION_SECONDS without a job of its own.
 */
export async function endSession(db: Executor, nonce: string, expiresAt: Date, now: Date): Promise<void> {
  await db.delete(endedSessions).where(lte(endedSessions.expiresAt, now));
  await db.insert(endedSessions).values({ nonce, expiresAt }).onConflictDoNothing();
}
