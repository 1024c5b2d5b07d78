import { and, eq } from 'drizzle-orm';
import type { Executor } from '../database.ts';
import { connectors, environmentLines, versions } from '../schema.ts';

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
  where: { technicalName: string; version: string; customerCode: string; supplierId: string | undefined },
): Promise<{ connector: ConnectorRow; version: VersionRow; line: LineRow } | undefined> {
  const query = db
    .select({ connector: connectors, version: versions, line: environmentLines })
    .from(environmentLines)
    .innerJoin(versions, eq(environmentLines.versionId, versions.id))
    .innerJoin(connectors, eq(versions.connectorId, connectors.id))
    .where(
      and(
        eq(connectors.technicalName, where.technicalName),
        eq(versions.version, where.version),
        eq(environmentLines.customerCode, where.customerCode),
        where.supplierId ? eq(connectors.supplierId, where.supplierId) : undefined,
      ),
    );
  const [row] = await query;
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
