import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Executor } from '../database.ts';
import { auditLog, certificateRequests, certificates } from '../schema.ts';
import type { AuditEntry } from './audit.ts';

export type NewRequest = typeof certificateRequests.$inferInsert;
export type NewCertificate = typeof certificates.$inferInsert;

/**
 * Writes an upload in ONE statement: the request, its certificate when it was signed at once,
 * and their audit entries. A single statement is atomic on its own, so the common case (a
 * development line) needs no explicit transaction and one round trip; foreign keys are checked
 * at the end of the statement, so the order of the parts does not matter.
 */
export async function writeUpload(
  db: Executor,
  rows: { request: NewRequest; certificate?: NewCertificate | undefined; audit: AuditEntry[] },
): Promise<void> {
  const parts = [statement(db.insert(certificateRequests).values(rows.request))];
  if (rows.certificate) parts.push(statement(db.insert(certificates).values(rows.certificate)));
  const ctes = parts.map((part, i) => sql`${sql.identifier(`part${i}`)} as (${part})`);
  await db.execute(sql`with ${sql.join(ctes, sql`, `)} ${statement(db.insert(auditLog).values(rows.audit))}`);
}

/** A builder's SQL as a plain statement (embedded as a builder, drizzle would parenthesise it). */
function statement(builder: SQLWrapper): SQL {
  return builder.getSQL();
}
