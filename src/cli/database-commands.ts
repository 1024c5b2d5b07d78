import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { createLogger } from '../log.ts';
import { openConfiguredDatabase } from '../main.ts';
import { approveVersion } from '../services/connectors.ts';
import type { ServiceContext } from '../services/context.ts';
import { createSupplier } from '../services/suppliers.ts';
import { UsageError, type Output } from './output.ts';

/**
 * The commands Nedap support runs against the database. The CA is not needed for them, so the
 * context carries none; with the embedded PGlite, stop the service first (one process at a time).
 */
export async function withDatabase<T>(
  config: Readonly<Config>,
  work: (ctx: Pick<ServiceContext, 'db' | 'now'>) => Promise<T>,
): Promise<T> {
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const database = await openConfiguredDatabase(config, log);
  try {
    return await work({ db: database.db, now: () => new Date() });
  } finally {
    await database.close();
  }
}

/** `ons-certs db migrate`: applies the migrations (the service also does at start). */
export async function dbMigrate(args: string[], config: Readonly<Config>, output: Output): Promise<number> {
  if (args.length > 0) throw new UsageError('db migrate takes no arguments');
  await withDatabase(config, async () => undefined);
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
  const outcome = await withDatabase(config, (ctx) =>
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
  const outcome = await withDatabase(config, (ctx) =>
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
