import { asc, eq } from 'drizzle-orm';
import { TECHNICAL_NAME } from '../core/common-name.ts';
import { appendAudit } from '../db/repositories/audit.ts';
import { findConnector, findVersion } from '../db/repositories/catalog.ts';
import { connectors, versions } from '../db/schema.ts';
import { describeActor, supplierScope, type Actor } from './actor.ts';
import type { ServiceContext } from './context.ts';
import { failure, notFound, success, type Outcome } from './outcome.ts';

export interface ConnectorView {
  technicalName: string;
  name: string;
  versions: { version: string; state: 'editable' | 'approved' }[];
}

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

export async function createConnector(
  ctx: ServiceContext,
  actor: Extract<Actor, { kind: 'supplier' }>,
  raw: { technicalName?: unknown; name?: unknown },
): Promise<Outcome<ConnectorView>> {
  const technicalName = typeof raw.technicalName === 'string' ? raw.technicalName.trim() : '';
  const name = typeof raw.name === 'string' ? raw.name.trim() : '';
  if (!TECHNICAL_NAME.test(technicalName) || technicalName.length > 64) {
    return failure(
      'invalid_technical_name',
      'technicalName must be 1-64 lower-case letters, digits and underscores (it starts every CN, e.g. hr_integration)',
    );
  }
  if (name === '' || name.length > 200)
    return failure('invalid_name', 'name is required, at most 200 characters');
  return ctx.db.transaction(async (tx) => {
    const inserted = await tx
      .insert(connectors)
      .values({ supplierId: actor.supplierId, technicalName, name })
      .onConflictDoNothing()
      .returning();
    if (inserted.length === 0)
      return failure('connector_exists', `a connector named ${technicalName} already exists`);
    await appendAudit(tx, {
      actor: describeActor(actor),
      action: 'connector.created',
      subjectType: 'connector',
      subjectId: inserted[0]!.id,
      details: { technicalName, name },
    });
    return success({ technicalName, name, versions: [] });
  });
}

/** The supplier's own connectors (all of them for an admin). */
export async function listConnectors(ctx: ServiceContext, actor: Actor): Promise<ConnectorView[]> {
  const scope = supplierScope(actor);
  const rows = await ctx.db
    .select({ connector: connectors, version: versions })
    .from(connectors)
    .leftJoin(versions, eq(versions.connectorId, connectors.id))
    .where(scope ? eq(connectors.supplierId, scope) : undefined)
    .orderBy(asc(connectors.technicalName), asc(versions.createdAt));
  const views = new Map<string, ConnectorView>();
  for (const { connector, version } of rows) {
    const view = views.get(connector.id) ?? {
      technicalName: connector.technicalName,
      name: connector.name,
      versions: [],
    };
    if (version) view.versions.push({ version: version.version, state: version.state });
    views.set(connector.id, view);
  }
  return [...views.values()];
}

export async function createVersion(
  ctx: ServiceContext,
  actor: Actor,
  technicalName: string,
  raw: { version?: unknown },
): Promise<Outcome<{ version: string; state: 'editable' }>> {
  const version = typeof raw.version === 'string' ? raw.version.trim() : '';
  if (!VERSION.test(version)) {
    return failure(
      'invalid_version',
      'version must be 1-64 letters, digits, dots, dashes, underscores or plus signs (e.g. 1.4.0)',
    );
  }
  return ctx.db.transaction(async (tx) => {
    const connector = await findConnector(tx, technicalName, supplierScope(actor));
    if (!connector) return notFound(`connector ${technicalName}`);
    const inserted = await tx
      .insert(versions)
      .values({ connectorId: connector.id, version })
      .onConflictDoNothing()
      .returning();
    if (inserted.length === 0)
      return failure('version_exists', `version ${version} of ${technicalName} already exists`);
    await appendAudit(tx, {
      actor: describeActor(actor),
      action: 'version.created',
      subjectType: 'version',
      subjectId: inserted[0]!.id,
      details: { technicalName, version },
    });
    return success({ version, state: 'editable' as const });
  });
}

/** Nedap support approves a version: it is no longer editable, and may have staging/production lines. */
export async function approveVersion(
  ctx: Pick<ServiceContext, 'db' | 'now'>,
  actor: Extract<Actor, { kind: 'admin' | 'system' }>,
  technicalName: string,
  version: string,
): Promise<Outcome<{ version: string; state: 'approved' }>> {
  return ctx.db.transaction(async (tx) => {
    const found = await findVersion(tx, technicalName, version, undefined);
    if (!found) return notFound(`version ${version} of connector ${technicalName}`);
    if (found.version.state !== 'approved') {
      await tx
        .update(versions)
        .set({ state: 'approved', approvedAt: ctx.now() })
        .where(eq(versions.id, found.version.id));
      await appendAudit(tx, {
        actor: describeActor(actor),
        action: 'version.approved',
        subjectType: 'version',
        subjectId: found.version.id,
        details: { technicalName, version },
      });
    }
    return success({ version, state: 'approved' as const });
  });
}
