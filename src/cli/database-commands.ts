import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { DatabaseInUse } from '../db/pglite-lock.ts';
import { createLogger, logDestination } from '../log.ts';
import { openConfiguredDatabase } from '../main.ts';
import { approveVersion } from '../services/connectors.ts';
import type { ServiceContext } from '../services/context.ts';
import { createSupplier } from '../services/suppliers.ts';
import { UsageError, type Output } from './output.ts';

/**
 * The commands Nedap support runs against the database. The CA is not needed for them, so the
 * context carries none. The embedded PGlite is one process's at a time: beside a running
 * service the command is refused (DatabaseInUse) with `instead`, what to do while it runs (when
 * there is something: the blocked keys have no API).
 */
export async function withDatabase<T>(
  config: Readonly<Config>,
  command: { name: string; instead?: string },
  work: (ctx: Pick<ServiceContext, 'db' | 'now'>) => Promise<T>,
): Promise<T> {
  const log = createLogger(
    config.logLevel === 'info' ? 'warn' : config.logLevel,
    logDestination(config.logFormat),
  );
  let database;
  try {
    database = await openConfiguredDatabase(config, log, `ons-certs ${command.name}`);
  } catch (error) {
    if (error instanceof DatabaseInUse) throw new DatabaseInUse(error.dir, error.holder, command.instead);
    throw error;
  }
  try {
    return await work({ db: database.db, now: () => new Date() });
  } finally {
    await database.close();
  }
}

/** `ons-certs db migrate`: applies the migrations (the service also does at start). */
export async function dbMigrate(args: string[], config: Readonly<Config>, output: Output): Promise<number> {
  if (args.length > 0) throw new UsageError('db migrate takes no arguments');
  const instead = 'there is nothing to do: a service applies the migrations when it starts';
  await withDatabase(config, { name: 'db migrate', instead }, async () => undefined);
  output.out(`migrations applied (${config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`})`);
  return 0;
}

/** `ons-certs supplier add --name N --email E [--github LOGIN ...]`: prints the token on stdout. */
export async function supplierAdd(args: string[], config: Readonly<Config>, output: Output): Promise<number> {
  const { values } = parse(args, {
    name: { type: 'string' },
    email: { type: 'string' },
    github: { type: 'string', multiple: true },
  });
  if (!values.name || !values.email) throw new UsageError('supplier add needs --name and --email');
  const instead = 'add the supplier through its admin API: POST /api/admin/suppliers with ADMIN_TOKEN';
  const outcome = await withDatabase(config, { name: 'supplier add', instead }, (ctx) =>
    createSupplier(
      ctx,
      { kind: 'admin' },
      { name: values.name, email: values.email, githubLogins: values.github ?? [] },
    ),
  );
  if (!outcome.ok) {
    for (const f of outcome.failures) output.err(`ons-certs: ${f.code}: ${f.message}`);
    return 1;
  }
  const { id, name, githubLogins, token } = outcome.value;
  output.err(
    `created supplier "${name}" (${id})${githubLogins.length ? `, GitHub: ${githubLogins.join(', ')}` : ''}; ` +
      'its token follows, shown this once:',
  );
  output.out(token);
  return 0;
}

/** `ons-certs version approve <connector> <version>`. */
export async function versionApprove(
  args: string[],
  config: Readonly<Config>,
  output: Output,
): Promise<number> {
  const { positionals } = parse(args, {});
  if (positionals.length !== 2) throw new UsageError('version approve takes <connector> <version>');
  const [technicalName, version] = positionals as [string, string];
  const instead =
    'approve through its admin API: ' +
    `POST /api/admin/connectors/${technicalName}/versions/${version}/approve with ADMIN_TOKEN`;
  const outcome = await withDatabase(config, { name: 'version approve', instead }, (ctx) =>
    approveVersion(ctx, { kind: 'admin' }, technicalName, version),
  );
  if (!outcome.ok) {
    for (const f of outcome.failures) output.err(`ons-certs: ${f.code}: ${f.message}`);
    return 1;
  }
  output.out(`${technicalName} ${version} is approved: staging and production environments can be added`);
  return 0;
}

function parse<O extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
