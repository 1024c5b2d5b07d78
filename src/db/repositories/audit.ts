import type { Executor } from '../database.ts';
import { auditLog } from '../schema.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  subjectType: 'supplier' | 'connector' | 'version' | 'line' | 'request' | 'certificate';
  subjectId: string;
  reason?: string | undefined;
  requestId?: string | undefined;
  deliveryId?: string | undefined;
  details?: Record<string, unknown>;
  at?: Date;
}

/** Appends to the audit log; call it inside the transaction of the change it records. */
export async function appendAudit(db: Executor, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values(entry);
}
