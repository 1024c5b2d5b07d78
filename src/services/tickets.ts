import { randomUUID } from 'node:crypto';
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { transition } from '../core/request-state.ts';
import { retryOnConnectionFailure } from '../db/errors.ts';
import { appendAudit } from '../db/repositories/audit.ts';
import { findConnector, findVersion, type LineRow } from '../db/repositories/catalog.ts';
import { requestById, type RequestRow } from '../db/repositories/certificates.ts';
import { prepared } from '../db/prepared.ts';
import {
  certificateRequests,
  connectors,
  environmentLines,
  handledComments,
  supplierGithubLogins,
  suppliers,
  versions,
  webhookDeliveries,
} from '../db/schema.ts';
import { describeActor, type Actor } from './actor.ts';
import type { ServiceContext } from './context.ts';
import { failure, notFound, success, type Outcome } from './outcome.ts';

/** A support ticket: a GitHub issue in the support repository. */
export interface TicketRef {
  owner: string;
  repo: string;
  number: number;
}

/** How a ticket is written on a request and in the audit log: `owner/repo#number`. */
export function ticketKey(ticket: TicketRef): string {
  return `${ticket.owner}/${ticket.repo}#${ticket.number}`;
}

export interface TicketSubject {
  connector: { id: string; technicalName: string; name: string };
  version: { id: string; version: string; state: 'editable' | 'approved' };
  supplier: { id: string; name: string; email: string };
  /** The line of the ticket's customer code, when the supplier added it. */
  line: LineRow | undefined;
}

/** What a ticket names, looked up without a supplier scope (the bot acts for Nedap). */
export async function ticketSubject(
  ctx: ServiceContext,
  where: { technicalName: string; version: string; customerCode: string },
): Promise<TicketSubject | { missing: 'connector' | 'version' }> {
  const found = await findVersion(ctx.db, where.technicalName, where.version, undefined);
  if (!found) {
    const connector = await findConnector(ctx.db, where.technicalName, undefined);
    return { missing: connector ? 'version' : 'connector' };
  }
  const [supplier] = await ctx.db
    .select({ id: suppliers.id, name: suppliers.name, email: suppliers.email })
    .from(suppliers)
    .where(eq(suppliers.id, found.connector.supplierId));
  if (!supplier) throw new Error(`connector ${found.connector.technicalName} has no supplier`);
  const [line] = await ctx.db
    .select()
    .from(environmentLines)
    .where(
      and(
        eq(environmentLines.versionId, found.version.id),
        eq(environmentLines.customerCode, where.customerCode),
      ),
    );
  return { connector: found.connector, version: found.version, supplier, line };
}

/**
 * Whether a GitHub account is registered for the supplier. The login is matched without case;
 * the first time it is seen its numeric id is recorded, and from then on the id must match too,
 * so that someone who takes over a renamed login cannot act for the supplier.
 */
export async function isRegisteredForSupplier(
  ctx: ServiceContext,
  supplierId: string,
  account: { login: string; id: number },
): Promise<boolean> {
  const login = account.login.trim().toLowerCase();
  const [row] = await ctx.db
    .select()
    .from(supplierGithubLogins)
    .where(and(eq(supplierGithubLogins.supplierId, supplierId), eq(supplierGithubLogins.login, login)));
  if (!row) return false;
  if (row.githubUserId === null) {
    await ctx.db
      .update(supplierGithubLogins)
      .set({ githubUserId: account.id })
      .where(eq(supplierGithubLogins.id, row.id));
    return true;
  }
  return row.githubUserId === account.id;
}

/** The newest request on a line with this CSR (by fingerprint) that is waiting or signed. */
export async function requestWithCsr(
  ctx: ServiceContext,
  lineId: string,
  csrSha256: string,
): Promise<RequestRow | undefined> {
  const [row] = await ctx.db
    .select()
    .from(certificateRequests)
    .where(
      and(
        eq(certificateRequests.lineId, lineId),
        eq(certificateRequests.csrSha256, csrSha256),
        inArray(certificateRequests.state, ['awaiting_approval', 'approved', 'signed']),
      ),
    )
    .orderBy(desc(certificateRequests.createdAt))
    .limit(1);
  return row;
}

/** The newest request on a line. */
export async function latestRequestOnLine(
  ctx: ServiceContext,
  lineId: string,
): Promise<RequestRow | undefined> {
  const [row] = await ctx.db
    .select()
    .from(certificateRequests)
    .where(eq(certificateRequests.lineId, lineId))
    .orderBy(desc(certificateRequests.createdAt), desc(certificateRequests.id))
    .limit(1);
  return row;
}

/** The newest request of a ticket, with what a command on it is checked against. */
export interface RequestForCommand {
  request: RequestRow;
  customerCode: string;
  /** The GitHub logins registered for the request's supplier (they may not decide). */
  supplierLogins: string[];
}

/**
 * The newest request of a ticket, with its line's customer code and its supplier's logins:
 * everything a command's checks read from the database, in one prepared round trip.
 */
export async function requestForCommand(
  ctx: ServiceContext,
  ticket: TicketRef,
): Promise<RequestForCommand | undefined> {
  const query = prepared(ctx.db, 'requestForCommand', (on) =>
    on
      .select({
        request: certificateRequests,
        customerCode: environmentLines.customerCode,
        supplierLogins: sql<string[]>`coalesce((select array_agg(${supplierGithubLogins.login})
          from ${supplierGithubLogins} where ${supplierGithubLogins.supplierId} = ${connectors.supplierId}), '{}')`,
      })
      .from(certificateRequests)
      .innerJoin(environmentLines, eq(environmentLines.id, certificateRequests.lineId))
      .innerJoin(versions, eq(versions.id, environmentLines.versionId))
      .innerJoin(connectors, eq(connectors.id, versions.connectorId))
      .where(eq(certificateRequests.ticket, sql.placeholder('ticket')))
      .orderBy(desc(certificateRequests.createdAt), desc(certificateRequests.id))
      .limit(1)
      .prepare('request_for_command'),
  );
  const [row] = await query.execute({ ticket: ticketKey(ticket) });
  return row;
}

/** Records that a ticket asks for this request (the ticket a command on it must come from). */
export async function attachTicket(
  ctx: ServiceContext,
  requestId: string,
  ticket: TicketRef & { installationId?: number },
): Promise<void> {
  await ctx.db
    .update(certificateRequests)
    .set({
      ticket: ticketKey(ticket),
      ...(ticket.installationId === undefined ? {} : { ticketInstallationId: ticket.installationId }),
      updatedAt: new Date(),
    })
    .where(eq(certificateRequests.id, requestId));
}

/** Keeps the data of a request's `approvals` job with the request, to put the job back should Redis lose it. */
export async function recordApprovalAsked(
  ctx: ServiceContext,
  requestId: string,
  approval: Record<string, unknown>,
): Promise<void> {
  await ctx.db
    .update(certificateRequests)
    .set({ approval, updatedAt: new Date() })
    .where(eq(certificateRequests.id, requestId));
}

/** Nobody decided in time: the waiting request expires (audited). */
export async function expireRequest(
  ctx: ServiceContext,
  requestId: string,
  actor: Actor = { kind: 'system' },
): Promise<Outcome<{ id: string }>> {
  return ctx.db.transaction(async (tx) => {
    const request = await requestById(tx, requestId, true);
    if (!request) return notFound(`request ${requestId}`);
    const next = transition(request.state, { type: 'expired' });
    if (!next.ok) return failure(next.code, next.message);
    await tx
      .update(certificateRequests)
      .set({ state: 'expired', updatedAt: new Date() })
      .where(eq(certificateRequests.id, requestId));
    await appendAudit(tx, {
      actor: describeActor(actor),
      action: 'request.expired',
      subjectType: 'request',
      subjectId: requestId,
      requestId,
      reason: 'nobody approved or rejected it in time',
    });
    return success({ id: requestId });
  });
}

/**
 * Claims a webhook delivery: true the first time its id is seen, false for a redelivery.
 * {@link releaseDelivery} gives a claim back when handling failed. A connection that fails under
 * the claim (a database restart) is tried again on a new one; should the first try have been
 * written and only its answer lost, the claim's own token tells that it is still this one's.
 */
export async function claimDelivery(
  ctx: ServiceContext,
  deliveryId: string,
  event: string,
  onRetry?: (error: unknown) => void,
): Promise<boolean> {
  const claim = randomUUID();
  return retryOnConnectionFailure(async () => {
    const rows = await ctx.db
      .insert(webhookDeliveries)
      .values({ deliveryId, event, claim })
      .onConflictDoNothing()
      .returning({ id: webhookDeliveries.deliveryId });
    if (rows.length === 1) return true;
    const [held] = await ctx.db
      .select({ claim: webhookDeliveries.claim })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.deliveryId, deliveryId));
    return held?.claim === claim;
  }, onRetry);
}

/** Gives back the claim of a delivery whose handling failed, so that its redelivery is handled. */
export async function releaseDelivery(ctx: ServiceContext, deliveryId: string): Promise<void> {
  await retryOnConnectionFailure(() =>
    ctx.db.delete(webhookDeliveries).where(eq(webhookDeliveries.deliveryId, deliveryId)),
  );
}

/**
 * Claims a ticket comment by GitHub's comment id: true the first time it is seen, false when
 * another delivery (a redelivery, or the same signed body replayed under a new delivery id)
 * brought it before. Like {@link claimDelivery}: tried again on a new connection, recognised by
 * its own token, and given back by {@link releaseComment} when handling failed.
 */
export async function claimComment(
  ctx: ServiceContext,
  commentId: number,
  deliveryId: string,
  onRetry?: (error: unknown) => void,
): Promise<boolean> {
  const claim = randomUUID();
  return retryOnConnectionFailure(async () => {
    const rows = await ctx.db
      .insert(handledComments)
      .values({ commentId, deliveryId, claim })
      .onConflictDoNothing()
      .returning({ id: handledComments.commentId });
    if (rows.length === 1) return true;
    const [held] = await ctx.db
      .select({ claim: handledComments.claim })
      .from(handledComments)
      .where(eq(handledComments.commentId, commentId));
    return held?.claim === claim;
  }, onRetry);
}

/** Gives back the claim of a comment whose handling failed (only the claim of that delivery). */
export async function releaseComment(
  ctx: ServiceContext,
  commentId: number,
  deliveryId: string,
): Promise<void> {
  await retryOnConnectionFailure(() =>
    ctx.db
      .delete(handledComments)
      .where(and(eq(handledComments.commentId, commentId), eq(handledComments.deliveryId, deliveryId))),
  );
}
