import { count, desc, eq, min } from 'drizzle-orm';
import { certificateRequests, crls } from '../db/schema.ts';
import type { ServiceContext } from './context.ts';

/** The nextUpdate of the newest CRL; undefined while none has been published. */
export async function newestCrlNextUpdate(ctx: Pick<ServiceContext, 'db'>): Promise<Date | undefined> {
  const [newest] = await ctx.db
    .select({ nextUpdate: crls.nextUpdate })
    .from(crls)
    .orderBy(desc(crls.crlNumber))
    .limit(1);
  return newest ? new Date(newest.nextUpdate) : undefined;
}

/** The requests waiting for an organisation's approval. */
export interface ApprovalBacklog {
  waiting: number;
  /** When the oldest of them was uploaded; null when none waits. */
  oldest: Date | null;
}

/** How many requests wait for approval, and since when the oldest does: one query. */
export async function approvalBacklog(ctx: Pick<ServiceContext, 'db'>): Promise<ApprovalBacklog | undefined> {
  const [row] = await ctx.db
    .select({ waiting: count(), oldest: min(certificateRequests.createdAt) })
    .from(certificateRequests)
    .where(eq(certificateRequests.state, 'awaiting_approval'));
  return row;
}
