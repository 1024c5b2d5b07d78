import { and, asc, eq } from 'drizzle-orm';
import type { Executor } from '../database.ts';
import { blockedKeys, certificates } from '../schema.ts';
import { appendAudit, type AuditEntry } from './audit.ts';

export type BlockedKeyRow = typeof blockedKeys.$inferSelect;

/**
 * Blocks a key and records it in the audit log, in one transaction; the row already there
 * (nothing written) when the key was blocked before.
 */
export async function insertBlockedKey(
  db: Executor,
  row: Omit<BlockedKeyRow, 'blockedAt'>,
  audit: AuditEntry,
): Promise<{ row: BlockedKeyRow; inserted: boolean }> {
  return db.transaction(async (tx) => {
    const [inserted] = await tx.insert(blockedKeys).values(row).onConflictDoNothing().returning();
    if (inserted) {
      await appendAudit(tx, audit);
      return { row: inserted, inserted: true };
    }
    const [existing] = await tx
      .select()
      .from(blockedKeys)
      .where(eq(blockedKeys.publicKeySha256, row.publicKeySha256));
    if (!existing) throw new Error('a blocked key was neither inserted nor found');
    return { row: existing, inserted: false };
  });
}

/** Unblocks a key and records it in the audit log; the removed row, or undefined. */
export async function deleteBlockedKey(
  db: Executor,
  publicKeySha256: string,
  audit: AuditEntry,
): Promise<BlockedKeyRow | undefined> {
  return db.transaction(async (tx) => {
    const [removed] = await tx
      .delete(blockedKeys)
      .where(eq(blockedKeys.publicKeySha256, publicKeySha256))
      .returning();
    if (removed) await appendAudit(tx, audit);
    return removed;
  });
}

export async function allBlockedKeys(db: Executor): Promise<BlockedKeyRow[]> {
  return db.select().from(blockedKeys).orderBy(asc(blockedKeys.blockedAt));
}

/** The enabled certificates with a key: blocking the key does not disable them. */
export async function enabledCertificatesWithKey(
  db: Executor,
  publicKeySha256: string,
): Promise<{ serial: string; commonName: string }[]> {
  return db
    .select({ serial: certificates.serial, commonName: certificates.commonName })
    .from(certificates)
    .where(and(eq(certificates.publicKeySha256, publicKeySha256), eq(certificates.enabled, true)));
}
