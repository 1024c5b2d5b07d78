import { asc, eq } from 'drizzle-orm';
import { parseCustomerCode, type EnvironmentKind } from '../core/customer-code.ts';
import { appendAudit } from '../db/repositories/audit.ts';
import { findVersion } from '../db/repositories/catalog.ts';
import {
  currentCertificates,
  latestRequests,
  waitingRequests,
  type CertificateRow,
} from '../db/repositories/certificates.ts';
import { environmentLines } from '../db/schema.ts';
import { describeActor, supplierScope, type Actor } from './actor.ts';
import type { ServiceContext } from './context.ts';
import { failure, notFound, success, type Failure, type Outcome } from './outcome.ts';

export interface CertificateView {
  serial: string;
  notBefore: string;
  notAfter: string;
  enabled: boolean;
  fingerprintSha256: string;
}

export interface EnvironmentView {
  customerCode: string;
  kind: EnvironmentKind;
  request?: {
    id: string;
    state: string;
    errors?: Failure[];
    /** The organisation's reason, when it rejected the request. */
    reason?: string;
    /** The support ticket that asks for it (`owner/repo#number`), once there is one. */
    ticket?: string;
  };
  certificate?: CertificateView;
  /**
   * A request that still waits for the organisation while a newer upload on the line was
   * refused (a refused CSR replaces nothing): the supplier must not think it gone.
   */
  waiting?: { id: string; ticket?: string };
}

export function certificateView(row: CertificateRow): CertificateView {
  return {
    serial: row.serial,
    notBefore: row.notBefore.toISOString(),
    notAfter: row.notAfter.toISOString(),
    enabled: row.enabled,
    fingerprintSha256: row.fingerprintSha256,
  };
}

/** "Add new environment": staging and production only on an approved version. */
export async function addEnvironment(
  ctx: ServiceContext,
  actor: Actor,
  where: { technicalName: string; version: string },
  raw: { customerCode?: unknown },
): Promise<Outcome<EnvironmentView>> {
  const code = parseCustomerCode(typeof raw.customerCode === 'string' ? raw.customerCode : '');
  if (!code.ok) return failure(code.code, code.message);
  return ctx.db.transaction(async (tx) => {
    const found = await findVersion(tx, where.technicalName, where.version, supplierScope(actor));
    if (!found) return notFound(`version ${where.version} of connector ${where.technicalName}`);
    if (code.kind !== 'development' && found.version.state !== 'approved') {
      return failure(
        'version_not_approved',
        `${code.code} is a ${code.kind} code; ${code.kind} certificates can only be requested for an approved ` +
          `version, and version ${where.version} is still editable: ask Nedap to review and approve it, or ` +
          'use TE1002 for the development environment meanwhile',
      );
    }
    const inserted = await tx
      .insert(environmentLines)
      .values({ versionId: found.version.id, customerCode: code.code, kind: code.kind })
      .onConflictDoNothing()
      .returning();
    if (inserted.length === 0) {
      return failure(
        'environment_exists',
        `${code.code} is already an environment of version ${where.version}`,
      );
    }
    await appendAudit(tx, {
      actor: describeActor(actor),
      action: 'line.added',
      subjectType: 'line',
      subjectId: inserted[0]!.id,
      details: { ...where, customerCode: code.code, kind: code.kind },
    });
    return success({ customerCode: code.code, kind: code.kind });
  });
}

/** The certificates tab of a version: each line with its latest request and current certificate. */
export async function listEnvironments(
  ctx: ServiceContext,
  actor: Actor,
  where: { technicalName: string; version: string },
): Promise<Outcome<EnvironmentView[]>> {
  const found = await findVersion(ctx.db, where.technicalName, where.version, supplierScope(actor));
  if (!found) return notFound(`version ${where.version} of connector ${where.technicalName}`);
  const lines = await ctx.db
    .select()
    .from(environmentLines)
    .where(eq(environmentLines.versionId, found.version.id))
    .orderBy(asc(environmentLines.createdAt));
  const ids = lines.map((l) => l.id);
  const [requests, certificates, waiting] = await Promise.all([
    latestRequests(ctx.db, ids),
    currentCertificates(ctx.db, ids),
    waitingRequests(ctx.db, ids),
  ]);
  return success(
    lines.map((line) => {
      const request = requests.get(line.id);
      const certificate = certificates.get(line.id);
      const stillWaiting = waiting.get(line.id);
      return {
        customerCode: line.customerCode,
        kind: line.kind,
        ...(request
          ? {
              request: {
                id: request.id,
                state: request.state,
                ...(request.errors && request.errors.length > 0 ? { errors: request.errors } : {}),
                ...(request.state === 'rejected' && request.decisionReason
                  ? { reason: request.decisionReason }
                  : {}),
                ...(request.ticket ? { ticket: request.ticket } : {}),
              },
            }
          : {}),
        ...(certificate ? { certificate: certificateView(certificate) } : {}),
        ...(stillWaiting && stillWaiting.id !== request?.id
          ? {
              waiting: {
                id: stillWaiting.id,
                ...(stillWaiting.ticket ? { ticket: stillWaiting.ticket } : {}),
              },
            }
          : {}),
      };
    }),
  );
}
