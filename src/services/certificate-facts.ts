import { and, eq, gt, inArray, lte, ne, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Executor } from '../db/database.ts';
import {
  certificateRequests,
  certificates,
  connectors,
  environmentLines,
  mailMessages,
  suppliers,
  versions,
} from '../db/schema.ts';

/** A certificate with what a message about it says: whose, for which line, from which ticket. */
export interface CertificateFacts {
  id: string;
  serial: string;
  commonName: string;
  fingerprintSha256: string;
  notBefore: Date;
  notAfter: Date;
  enabled: boolean;
  supplier: string;
  supplierEmail: string;
  connector: string;
  version: string;
  customerCode: string;
  requestId: string;
  ticket: string | null;
  ticketInstallationId: number | null;
}

const FACTS = {
  id: certificates.id,
  serial: certificates.serial,
  commonName: certificates.commonName,
  fingerprintSha256: certificates.fingerprintSha256,
  notBefore: certificates.notBefore,
  notAfter: certificates.notAfter,
  enabled: certificates.enabled,
  supplier: suppliers.name,
  supplierEmail: suppliers.email,
  connector: connectors.technicalName,
  version: versions.version,
  customerCode: environmentLines.customerCode,
  requestId: certificates.requestId,
  ticket: certificateRequests.ticket,
  ticketInstallationId: certificateRequests.ticketInstallationId,
};

function factsQuery(db: Executor) {
  return db
    .select(FACTS)
    .from(certificates)
    .innerJoin(environmentLines, eq(environmentLines.id, certificates.lineId))
    .innerJoin(versions, eq(versions.id, environmentLines.versionId))
    .innerJoin(connectors, eq(connectors.id, versions.connectorId))
    .innerJoin(suppliers, eq(suppliers.id, connectors.supplierId))
    .innerJoin(certificateRequests, eq(certificateRequests.id, certificates.requestId));
}

export async function certificateFacts(
  db: Executor,
  certificateId: string,
): Promise<CertificateFacts | undefined> {
  const [row] = await factsQuery(db).where(eq(certificates.id, certificateId));
  return row;
}

const newer = alias(certificates, 'newer');

/**
 * The certificates the daily scan must tell their supplier about: enabled, expiring before
 * `horizon` (or expired already), without an expiry notice that went out (a notice still queued
 * is returned again, so that its job is queued again if it went missing), and the newest on
 * their line (a renewed line needs no reminder).
 *
 * Two steps, because the planner cannot know how few certificates are left once the notices are
 * taken off: joined in one statement it hashes whole tables. The first step reads the partial
 * index on enabled expiry dates; the second looks up the few that remain by primary key.
 */
export async function certificatesDueForNotice(db: Executor, horizon: Date): Promise<CertificateFacts[]> {
  const candidates = await db
    .select({ id: certificates.id })
    .from(certificates)
    .where(
      and(
        sql`${certificates.enabled}`,
        lte(certificates.notAfter, horizon),
        sql`not exists (${db
          .select({ one: sql`1` })
          .from(mailMessages)
          .where(
            and(
              eq(mailMessages.certificateId, certificates.id),
              inArray(mailMessages.kind, ['expiry_reminder', 'expired']),
              ne(mailMessages.state, 'queued'),
            ),
          )})`,
      ),
    );
  if (candidates.length === 0) return [];
  return factsQuery(db).where(
    and(
      inArray(
        certificates.id,
        candidates.map((c) => c.id),
      ),
      sql`not exists (${db
        .select({ one: sql`1` })
        .from(newer)
        .where(and(eq(newer.lineId, certificates.lineId), gt(newer.notAfter, certificates.notAfter)))})`,
    ),
  );
}
