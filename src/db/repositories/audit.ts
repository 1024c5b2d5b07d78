import type { Executor } from '../database.ts';
import { auditLog } from '../schema.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  /** `key`: a public key by its SPKI SHA-256 (blocked keys). */
  subjectType: 'supplier' | 'connector' | 'version' | 'line' | 'request' | 'certificate' | 'key';
  subjectId: string;
  reason?: string | undefined;
  requestId?: string | undefined;
  deliveryId?: string | undefined;
  details?: Record<string, unknown>;
  at?: Date;
}

/** Appends to the audit log; call it inside the transaction of the change it records. */
export async function appendAudit(db: Executor, entry: AuditEntry | AuditEntry[]): Promise<void> {
  const entries = Array.isArray(entry) ? entry : [entry];
  if (entries.length > 0) await db.insert(auditLog).values(entries);
}
