import { and, desc, eq, gt, max, sql } from 'drizzle-orm';
import type { CrlEntry } from '../../ca/crl.ts';
import type { Executor } from '../database.ts';
import { certificates, crls } from '../schema.ts';

export type CrlRow = typeof crls.$inferSelect;

/** The newest stored CRL (the highest number), if any. */
export async function newestCrl(db: Executor): Promise<CrlRow | undefined> {
  const [row] = await db.select().from(crls).orderBy(desc(crls.crlNumber)).limit(1);
  return row;
}

/** The newest CRL's number and validity without its body: what a poller compares. */
export async function newestCrlHead(
  db: Executor,
): Promise<Pick<CrlRow, 'crlNumber' | 'nextUpdate'> | undefined> {
  const [row] = await db
    .select({ crlNumber: crls.crlNumber, nextUpdate: crls.nextUpdate })
    .from(crls)
    .orderBy(desc(crls.crlNumber))
    .limit(1);
  return row;
}

/** The next CRL number: one more than any stored (1 for the first). Take it under `lockCrlNumbers`. */
export async function nextCrlNumber(db: Executor): Promise<number> {
  const [row] = await db.select({ highest: max(crls.crlNumber) }).from(crls);
  return Number(row?.highest ?? 0) + 1;
}

/**
 * Serialises CRL signing across every process on this database until the transaction ends, so
 * that a higher number is always signed from a later view of the certificates.
 */
export async function lockCrlNumbers(tx: Executor): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${CRL_LOCK_KEY})`);
}

/** An arbitrary constant of our own: pg_advisory_xact_lock's key space is per database. */
const CRL_LOCK_KEY = 0x6f6e7363726c; // "onscrl"

/** The disabled certificates that expired after `expiredAfter` (or not yet), by serial. */
export async function disabledCertificates(db: Executor, expiredAfter: Date): Promise<CrlEntry[]> {
  const rows = await db
    .select({
      serial: certificates.serial,
      disabledAt: certificates.disabledAt,
      createdAt: certificates.createdAt,
    })
    .from(certificates)
    .where(and(eq(certificates.enabled, false), gt(certificates.notAfter, expiredAfter)))
    .orderBy(certificates.serial);
  return rows.map((row) => ({ serial: row.serial, revokedAt: row.disabledAt ?? row.createdAt }));
}

export async function insertCrl(db: Executor, row: typeof crls.$inferInsert): Promise<CrlRow> {
  const [inserted] = await db.insert(crls).values(row).returning();
  return inserted!;
}
