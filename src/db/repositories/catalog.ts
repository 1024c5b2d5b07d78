import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../database.ts';
import { prepared } from '../prepared.ts';
import type { KnownKeyStatus } from '../../core/csr-policy.ts';
import { blockedKeys, certificates, connectors, environmentLines, suppliers, versions } from '../schema.ts';

export type ConnectorRow = typeof connectors.$inferSelect;
export type VersionRow = typeof versions.$inferSelect;
export type LineRow = typeof environmentLines.$inferSelect;

/** A connector by technical name, only when it belongs to `supplierId` (when given). */
export async function findConnector(
  db: Executor,
  technicalName: string,
  supplierId: string | undefined,
): Promise<ConnectorRow | undefined> {
  const [row] = await db
    .select()
    .from(connectors)
    .where(
      and(
        eq(connectors.technicalName, technicalName),
        supplierId ? eq(connectors.supplierId, supplierId) : undefined,
      ),
    );
  return row;
}

export async function findVersion(
  db: Executor,
  technicalName: string,
  version: string,
  supplierId: string | undefined,
): Promise<{ connector: ConnectorRow; version: VersionRow } | undefined> {
  const [row] = await db
    .select({ connector: connectors, version: versions })
    .from(versions)
    .innerJoin(connectors, eq(versions.connectorId, connectors.id))
    .where(
      and(
        eq(connectors.technicalName, technicalName),
        eq(versions.version, version),
        supplierId ? eq(connectors.supplierId, supplierId) : undefined,
      ),
    );
  return row;
}

/** A line with its version and connector. */
export async function findLine(
  db: Executor,
  where: {
    technicalName: string;
    version: string;
    customerCode: string;
    supplierId: string | undefined;
    /** A key whose history to report as `keyHistory` (key_blocked / key_compromised / key_reused). */
    publicKeySha256?: string | undefined;
  },
): Promise<
  | {
      connector: ConnectorRow;
      version: VersionRow;
      line: LineRow;
      supplier: { name: string; email: string };
      keyHistory: KnownKeyStatus | null;
    }
  | undefined
> {
  const scoped = where.supplierId !== undefined;
  const query = prepared(db, scoped ? 'findLine:supplier' : 'findLine', (on) =>
    on
      .select({
        connector: connectors,
        version: versions,
        line: environmentLines,
        // An upload needs these too: the supplier for the e-mail it may cause, and what earlier
        // certificates and the blocked keys say about its key. One round trip instead of four.
        supplier: { name: suppliers.name, email: suppliers.email },
        keyHistory: sql<KnownKeyStatus | null>`case when ${blockedKeys.publicKeySha256} is not null then 'blocked' else (
          select case when bool_or(not ${certificates.enabled}) then 'disabled' when count(*) > 0 then 'issued' end
          from ${certificates} where ${certificates.publicKeySha256} = ${sql.placeholder('publicKeySha256')}) end`,
      })
      .from(environmentLines)
      .innerJoin(versions, eq(environmentLines.versionId, versions.id))
      .innerJoin(connectors, eq(versions.connectorId, connectors.id))
      .innerJoin(suppliers, eq(connectors.supplierId, suppliers.id))
      .leftJoin(blockedKeys, eq(blockedKeys.publicKeySha256, sql.placeholder('publicKeySha256')))
      .where(
        and(
          eq(connectors.technicalName, sql.placeholder('technicalName')),
          eq(versions.version, sql.placeholder('version')),
          eq(environmentLines.customerCode, sql.placeholder('customerCode')),
          scoped ? eq(connectors.supplierId, sql.placeholder('supplierId')) : undefined,
        ),
      )
      .prepare(scoped ? 'find_line_of_supplier' : 'find_line'),
  );
  const [row] = await query.execute({ ...where, publicKeySha256: where.publicKeySha256 ?? '' });
  return row;
}

export async function findLineById(
  db: Executor,
  lineId: string,
): Promise<{ connector: ConnectorRow; version: VersionRow; line: LineRow } | undefined> {
  const [row] = await db
    .select({ connector: connectors, version: versions, line: environmentLines })
    .from(environmentLines)
    .innerJoin(versions, eq(environmentLines.versionId, versions.id))
    .innerJoin(connectors, eq(versions.connectorId, connectors.id))
    .where(eq(environmentLines.id, lineId));
  return row;
}
