import { and, desc, eq, isNull, ne, or, sql } from 'drizzle-orm';
import type { Executor } from '../database.ts';
import {
  certificateRequests,
  certificates,
  connectors,
  consents,
  environmentLines,
  versions,
} from '../schema.ts';
import type { CertificateRow } from './certificates.ts';
import type { ConnectorRow, LineRow, VersionRow } from './catalog.ts';

/** A certificate with what renewing it needs: its line, version, connector and the line's consent. */
export interface RenewableCertificate {
  certificate: CertificateRow;
  /** Null when the line is gone (left joins: the certificate alone says who is asking). */
  line: LineRow | null;
  version: VersionRow | null;
  connector: ConnectorRow | null;
  hasConsent: boolean;
}

/** The certificate with this serial (lower-case hex) and fingerprint, in one round trip. */
export async function renewableCertificate(
  db: Executor,
  serial: string,
  fingerprintSha256: string,
): Promise<RenewableCertificate | undefined> {
  const [row] = await db
    .select({
      certificate: certificates,
      line: environmentLines,
      version: versions,
      connector: connectors,
      hasConsent: sql<boolean>`${consents.id} is not null`,
    })
    .from(certificates)
    .leftJoin(environmentLines, eq(environmentLines.id, certificates.lineId))
    .leftJoin(versions, eq(versions.id, environmentLines.versionId))
    .leftJoin(connectors, eq(connectors.id, versions.connectorId))
    .leftJoin(consents, eq(consents.lineId, environmentLines.id))
    .where(and(eq(certificates.serial, serial), eq(certificates.fingerprintSha256, fingerprintSha256)));
  return row;
}

/**
 * The enabled certificate on a line signed from the CSR with this fingerprint after the
 * certificate `newerThanId`, if any: what a client retrying a re-enrolment whose answer it lost
 * must get again. (Not the certificate it renews itself: RSA signatures are deterministic, so
 * a CSR made again for the current key is the very CSR of the current certificate.)
 */
export async function certificateForCsr(
  db: Executor,
  lineId: string,
  csrSha256: string,
  newerThanId: string,
): Promise<CertificateRow | undefined> {
  const [row] = await db
    .select({ certificate: certificates })
    .from(certificates)
    .innerJoin(certificateRequests, eq(certificateRequests.id, certificates.requestId))
    .where(
      and(
        eq(certificates.lineId, lineId),
        eq(certificateRequests.csrSha256, csrSha256),
        eq(certificates.enabled, true),
        newerThan(newerThanId),
      ),
    )
    .orderBy(desc(certificates.createdAt))
    .limit(1);
  return row?.certificate;
}

/**
 * A certificate on the same line with the same subject issued after `than`, other than one
 * signed from the CSR with fingerprint `csrSha256` (a retry of the renewal that made it).
 */
export async function newerWithSubject(
  db: Executor,
  than: CertificateRow,
  csrSha256: string,
): Promise<CertificateRow | undefined> {
  const [row] = await db
    .select({ certificate: certificates })
    .from(certificates)
    .innerJoin(certificateRequests, eq(certificateRequests.id, certificates.requestId))
    .where(
      and(
        eq(certificates.lineId, than.lineId),
        eq(certificates.subject, than.subject),
        newerThan(than.id),
        or(ne(certificateRequests.csrSha256, csrSha256), isNull(certificateRequests.csrSha256)),
      ),
    )
    .orderBy(desc(certificates.createdAt))
    .limit(1);
  return row?.certificate;
}

/** Created after the certificate `id`; compared in the database (a Date holds ms, the column µs). */
const newerThan = (id: string) =>
  sql`${certificates.createdAt} > (select c.created_at from ${certificates} c where c.id = ${id})`;

/** A certificate's PEM by serial. */
export async function certificatePem(db: Executor, serial: string): Promise<string | undefined> {
  const [row] = await db
    .select({ pem: certificates.pem })
    .from(certificates)
    .where(eq(certificates.serial, serial));
  return row?.pem;
}
