import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { KnownKeyStatus } from '../../core/csr-policy.ts';
import type { Executor } from '../database.ts';
import { prepared } from '../prepared.ts';
import { blockedKeys, certificateRequests, certificates, consents } from '../schema.ts';

export type RequestRow = typeof certificateRequests.$inferSelect;
export type CertificateRow = typeof certificates.$inferSelect;
export type ConsentRow = typeof consents.$inferSelect;

/** What is known of a public key: blocked, or in earlier certificates (key_blocked / key_compromised / key_reused). */
export async function knownKeyStatus(
  db: Executor,
  publicKeySha256: string,
): Promise<Map<string, KnownKeyStatus>> {
  const [row] = await prepared(db, 'knownKeyStatus', (on) =>
    on
      .select({
        // An aggregate without GROUP BY: always one row, null when nothing is known of the key.
        status: sql<KnownKeyStatus | null>`case
          when exists (select 1 from ${blockedKeys} where ${blockedKeys.publicKeySha256} = ${sql.placeholder('publicKeySha256')}) then 'blocked'
          when bool_or(not ${certificates.enabled}) then 'disabled' when count(*) > 0 then 'issued' end`,
      })
      .from(certificates)
      .where(eq(certificates.publicKeySha256, sql.placeholder('publicKeySha256')))
      .prepare('known_key_status'),
  ).execute({ publicKeySha256 });
  return row?.status ? new Map([[publicKeySha256, row.status]]) : new Map();
}

export async function consentFor(db: Executor, lineId: string): Promise<ConsentRow | undefined> {
  const [row] = await db.select().from(consents).where(eq(consents.lineId, lineId));
  return row;
}

export async function requestById(
  db: Executor,
  id: string,
  forUpdate = false,
): Promise<RequestRow | undefined> {
  const query = db.select().from(certificateRequests).where(eq(certificateRequests.id, id));
  const [row] = forUpdate ? await query.for('update') : await query;
  return row;
}

export async function certificateForRequest(
  db: Executor,
  requestId: string,
): Promise<CertificateRow | undefined> {
  const [row] = await db.select().from(certificates).where(eq(certificates.requestId, requestId));
  return row;
}

/** The request waiting for approval on each line that has one (at most one per line). */
export async function waitingRequests(db: Executor, lineIds: string[]): Promise<Map<string, RequestRow>> {
  if (lineIds.length === 0) return new Map();
  const rows = await db
    .select()
    .from(certificateRequests)
    .where(
      and(inArray(certificateRequests.lineId, lineIds), eq(certificateRequests.state, 'awaiting_approval')),
    );
  return new Map(rows.map((r) => [r.lineId, r]));
}

/** The newest request of each line. */
export async function latestRequests(db: Executor, lineIds: string[]): Promise<Map<string, RequestRow>> {
  if (lineIds.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([certificateRequests.lineId])
    .from(certificateRequests)
    .where(inArray(certificateRequests.lineId, lineIds))
    .orderBy(certificateRequests.lineId, desc(certificateRequests.createdAt), desc(certificateRequests.id));
  return new Map(rows.map((r) => [r.lineId, r]));
}

/** The newest certificate of each line: what "Download PEM file" gives. */
export async function currentCertificates(
  db: Executor,
  lineIds: string[],
): Promise<Map<string, CertificateRow>> {
  if (lineIds.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([certificates.lineId])
    .from(certificates)
    .where(inArray(certificates.lineId, lineIds))
    .orderBy(certificates.lineId, desc(certificates.notBefore), desc(certificates.createdAt));
  return new Map(rows.map((r) => [r.lineId, r]));
}
