import { eq, sql, type SQLWrapper } from 'drizzle-orm';
import type { KnownKeyStatus } from '../../core/csr-policy.ts';
import type { Executor, Transaction } from '../database.ts';
import {
  auditLog,
  blockedKeys,
  certificateRequests,
  certificates,
  connectors,
  consents,
  environmentLines,
  suppliers,
  versions,
} from '../schema.ts';
import type { AuditEntry } from './audit.ts';
import type { RequestRow } from './certificates.ts';
import type { NewCertificate } from './uploads.ts';
import { oneStatement } from './one-statement.ts';

/** A request about to be decided, with what the decision's messages and checks need. */
export interface RequestForDecision {
  request: RequestRow;
  customerCode: string;
  connector: string;
  version: string;
  supplier: string;
  supplierEmail: string;
  /** What is known of the request's key now (it may have been certified or blocked since). */
  keyHistory: KnownKeyStatus | null;
}

/**
 * The request, locked for the rest of the transaction (only its own row), with its line's facts
 * and its key's history: everything a decision reads, in one round trip.
 */
export async function lockRequestForDecision(
  tx: Transaction,
  requestId: string,
): Promise<RequestForDecision | undefined> {
  const [row] = await tx
    .select({
      request: certificateRequests,
      customerCode: environmentLines.customerCode,
      connector: connectors.technicalName,
      version: versions.version,
      supplier: suppliers.name,
      supplierEmail: suppliers.email,
      keyHistory: sql<KnownKeyStatus | null>`case when ${blockedKeys.publicKeySha256} is not null then 'blocked' else (
        select case when bool_or(not ${certificates.enabled}) then 'disabled' when count(*) > 0 then 'issued' end
        from ${certificates} where ${certificates.publicKeySha256} = ${certificateRequests.publicKeySha256}) end`,
    })
    .from(certificateRequests)
    .innerJoin(environmentLines, eq(environmentLines.id, certificateRequests.lineId))
    .innerJoin(versions, eq(versions.id, environmentLines.versionId))
    .innerJoin(connectors, eq(connectors.id, versions.connectorId))
    .innerJoin(suppliers, eq(suppliers.id, connectors.supplierId))
    .leftJoin(blockedKeys, eq(blockedKeys.publicKeySha256, certificateRequests.publicKeySha256))
    .where(eq(certificateRequests.id, requestId))
    .for('update', { of: certificateRequests });
  return row;
}

/** What an approval writes: the consent, the request signed, its certificate, the audit entries. */
export interface ApprovalRows {
  requestId: string;
  decidedBy: string;
  consent: typeof consents.$inferInsert;
  certificate: NewCertificate;
  audit: AuditEntry[];
}

/**
 * Writes an approval in one statement (one round trip inside the decision's transaction). A
 * consent that exists already stays: the line's first approval is its consent.
 */
export async function writeApproval(db: Executor, rows: ApprovalRows): Promise<void> {
  const parts: SQLWrapper[] = [
    db
      .update(certificateRequests)
      .set({ state: 'signed', decidedBy: rows.decidedBy, updatedAt: new Date() })
      .where(eq(certificateRequests.id, rows.requestId)),
    db.insert(consents).values(rows.consent).onConflictDoNothing(),
    db.insert(certificates).values(rows.certificate),
  ];
  await db.execute(oneStatement(parts, db.insert(auditLog).values(rows.audit)));
}
