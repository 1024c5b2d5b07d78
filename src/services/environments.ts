import { asc, eq, sql } from 'drizzle-orm';
import { parseCustomerCode, type EnvironmentKind } from '../core/customer-code.ts';
import { appendAudit } from '../db/repositories/audit.ts';
import { findVersion } from '../db/repositories/catalog.ts';
import {
  currentCertificates,
  latestRequests,
  waitingRequests,
  type CertificateRow,
} from '../db/repositories/certificates.ts';
import { validCertificates, whoDisabled } from '../db/repositories/line-certificates.ts';
import { environmentLines } from '../db/schema.ts';
import { describeActor, supplierScope, type Actor } from './actor.ts';
import { actorName } from './actor-name.ts';
import type { ServiceContext } from './context.ts';
import { failure, notFound, success, type Failure, type Outcome } from './outcome.ts';

export interface CertificateView {
  serial: string;
  notBefore: string;
  notAfter: string;
  enabled: boolean;
  fingerprintSha256: string;
  /** Present while the certificate is disabled: when, why, and who (a name, not an id). */
  disabled?: DisabledView;
}

export interface DisabledView {
  at: string;
  reason: string;
  /** The supplier's name, "Nedap support", an approver's login; absent when not recorded. */
  by?: string;
}

/** One certificate of a line in the listing: `current` is the one "Download PEM file" gives. */
export interface LineCertificateView extends CertificateView {
  current: boolean;
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
  /** The current certificate (the newest), also when it has expired. */
  certificate?: CertificateView;
  /**
   * Every certificate of the line that has not expired, newest first, and the current one even
   * when it has: a renewal leaves the one it replaced valid (and enabled) until it expires.
   * Present with `certificate`.
   */
  certificates?: LineCertificateView[];
  /**
   * A request that still waits for the organisation while a newer upload on the line was
   * refused (a refused CSR replaces nothing): the supplier must not think it gone.
   */
  waiting?: { id: string; ticket?: string };
}

/** A certificate as the API shows it; `disabledBy` is the name of who disabled it, when known. */
export function certificateView(row: CertificateRow, disabledBy?: string): CertificateView {
  return {
    serial: row.serial,
    notBefore: row.notBefore.toISOString(),
    notAfter: row.notAfter.toISOString(),
    enabled: row.enabled,
    fingerprintSha256: row.fingerprintSha256,
    ...(!row.enabled && row.disabledAt
      ? {
          disabled: {
            at: row.disabledAt.toISOString(),
            reason: row.disabledReason ?? '',
            ...(disabledBy ? { by: disabledBy } : {}),
          },
        }
      : {}),
  };
}

/** Development first, then staging, then production; by code within each. */
const KIND_ORDER = sql`case ${environmentLines.kind} when 'development' then 0 when 'staging' then 1 else 2 end`;

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

/**
 * The certificates tab of a version: each line (development, staging, production, then by code)
 * with its latest request, its current certificate and every certificate still valid.
 */
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
    .orderBy(KIND_ORDER, asc(environmentLines.customerCode));
  const ids = lines.map((l) => l.id);
  const [requests, certificates, valid, waiting] = await Promise.all([
    latestRequests(ctx.db, ids),
    currentCertificates(ctx.db, ids),
    validCertificates(ctx.db, ids, ctx.now()),
    waitingRequests(ctx.db, ids),
  ]);
  const disabledSerials = [...certificates.values(), ...[...valid.values()].flat()]
    .filter((c) => !c.enabled)
    .map((c) => c.serial);
  const disablers = await whoDisabled(ctx.db, [...new Set(disabledSerials)]);
  const view = (row: CertificateRow) => {
    const by = disablers.get(row.serial);
    return certificateView(row, by && actorName(by.actor, by.supplierName));
  };
  return success(
    lines.map((line) => {
      const request = requests.get(line.id);
      const certificate = certificates.get(line.id);
      const stillWaiting = waiting.get(line.id);
      const listed = valid.get(line.id) ?? [];
      const all =
        certificate && !listed.some((c) => c.id === certificate.id) ? [certificate, ...listed] : listed;
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
        ...(certificate
          ? {
              certificate: view(certificate),
              certificates: all.map((c) => ({ ...view(c), current: c.id === certificate.id })),
            }
          : {}),
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
