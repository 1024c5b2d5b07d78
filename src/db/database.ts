import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { lockDirectory, type DirectoryLock } from './pglite-lock.ts';
import * as schema from './schema.ts';

/** One schema, two engines: what every repository and service works with. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction of either engine; repositories take `Database | Transaction`. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  engine: 'postgres' | 'pglite';
  /** Applies the committed migrations in drizzle/ (idempotent). */
  migrate(): Promise<void>;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

export interface DatabaseLocation {
  /** PostgreSQL through postgres.js when set. */
  url?: string | undefined;
  /** Otherwise embedded PGlite in this directory ('memory://' for a throwaway one). */
  pgliteDir?: string;
  /** What opens PGlite, as the lock file names it to a second process (`ons-certs serve`). */
  command?: string;
}

/** Opens PostgreSQL (DATABASE_URL) or the embedded PGlite; connects lazily, never at import. */
export async function openDatabase(location: DatabaseLocation): Promise<DatabaseHandle> {
  if (location.url) {
    const client = preparedStatements(
      postgres(location.url, { max: 10, onnotice: () => undefined, connect_timeout: 10 }),
    );
    const db = drizzlePostgres(client, { schema }) as unknown as Database;
    return {
      db,
      engine: 'postgres',
      migrate: () => migrateUnderLock(location.url!),
      ping: async () => {
        await db.execute(sql`select 1`);
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const dir = location.pgliteDir ?? 'memory://';
  let lock: DirectoryLock | undefined;
  let client: PGlite;
  if (!dir.startsWith('memory://')) {
    // Before PGlite touches the directory: a second process on it would lose writes.
    lock = await lockDirectory(dir, location.command ?? `pid ${process.pid}`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      client = await PGlite.create(dir);
    } catch (error) {
      await lock.release();
      throw error;
    }
  } else client = await PGlite.create(dir);
  const pglite = drizzlePglite(client, { schema });
  const db = pglite as unknown as Database;
  return {
    db,
    engine: 'pglite',
    migrate: () => migratePglite(pglite, { migrationsFolder: MIGRATIONS_FOLDER }),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: async () => {
      try {
        await client.close();
      } finally {
        await lock?.release();
      }
    },
  };
}

/**
 * drizzle sends its queries through postgres.js's `unsafe()`, which does not prepare them: each
 * query with parameters then costs two round trips (describe, then execute). Preparing them
 * (postgres.js keeps them per connection, by text) makes it one, and spares PostgreSQL the
 * parsing and planning: on the upload path that is most of the database's work.
 */
/** An arbitrary constant of our own for the migrations' advisory lock. */
const MIGRATION_LOCK_KEY = 0x6f6e736d;

/**
 * Applies the migrations while holding a session advisory lock, on one connection of its own:
 * processes that start together (docker-compose's app and worker on a fresh database) would
 * otherwise both try to create the tables, and one would fail. The second waits, then finds
 * nothing left to do.
 */
async function migrateUnderLock(url: string): Promise<void> {
  const single = postgres(url, { max: 1, onnotice: () => undefined, connect_timeout: 10 });
  try {
    await single`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migratePostgres(drizzlePostgres(single, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await single.end({ timeout: 5 });
  }
}

function preparedStatements(sql: postgres.Sql): postgres.Sql {
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, args?: unknown[], options?: Record<string, unknown>) =>
          target.unsafe(query, args as postgres.ParameterOrJSON<never>[], { ...options, prepare: true });
      }
      if (property === 'begin') {
        return (...args: unknown[]) => {
          const work = args.pop() as (inner: postgres.Sql) => unknown;
          return (target.begin as (...a: unknown[]) => unknown)(...args, (inner: postgres.Sql) =>
            work(preparedStatements(inner)),
          );
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

export { schema };
