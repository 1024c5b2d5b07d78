import { and, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../database.ts';
import { auditLog, certificates, suppliers } from '../schema.ts';
import type { CertificateRow } from './certificates.ts';

/**
 * The certificates of each line that have not expired at `now`, newest first (by notBefore,
 * as `currentCertificates` orders them): after a renewal the one it replaced is still valid and
 * must stay in sight, or nobody would think of disabling it.
 */
export async function validCertificates(
  db: Executor,
  lineIds: string[],
  now: Date,
): Promise<Map<string, CertificateRow[]>> {
  const found = new Map<string, CertificateRow[]>();
  if (lineIds.length === 0) return found;
  const rows = await db
    .select()
    .from(certificates)
    .where(and(inArray(certificates.lineId, lineIds), gt(certificates.notAfter, now)))
    .orderBy(desc(certificates.notBefore), desc(certificates.createdAt));
  for (const row of rows) found.set(row.lineId, [...(found.get(row.lineId) ?? []), row]);
  return found;
}

/** Who disabled a certificate, as the audit log recorded it. */
export interface DisabledBy {
  /** describeActor's text: `supplier:<id>`, `admin`, `github:<login>#<id>`, `system`. */
  actor: string;
  /** The supplier's name when the actor is a supplier that still exists. */
  supplierName: string | null;
}

/**
 * The latest `certificate.disabled` entry of each serial, with the supplier's name joined in:
 * the certificates table keeps when and why, the audit log keeps who (one query, on the
 * audit log's subject index).
 */
export async function whoDisabled(db: Executor, serials: string[]): Promise<Map<string, DisabledBy>> {
  if (serials.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([auditLog.subjectId], {
      serial: auditLog.subjectId,
      actor: auditLog.actor,
      supplierName: suppliers.name,
    })
    .from(auditLog)
    .leftJoin(suppliers, eq(auditLog.actor, sql`'supplier:' || ${suppliers.id}::text`))
    .where(
      and(
        eq(auditLog.subjectType, 'certificate'),
        inArray(auditLog.subjectId, serials),
        eq(auditLog.action, 'certificate.disabled'),
      ),
    )
    .orderBy(auditLog.subjectId, desc(auditLog.id));
  return new Map(rows.map((r) => [r.serial, { actor: r.actor, supplierName: r.supplierName }]));
}
