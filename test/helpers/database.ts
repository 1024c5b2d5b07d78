import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';

/**
 * The PostgreSQL server the tests use: TEST_DATABASE_URL, else DATABASE_URL, else the local
 * server of these machines. Each test file gets a database of its own on it.
 */
export const POSTGRES_ADMIN_URL =
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export type Engine = 'postgres' | 'pglite';
export const ENGINES: Engine[] = ['postgres', 'pglite'];

export interface TestDatabase {
  handle: DatabaseHandle;
  /** The URL of the fresh PostgreSQL database (undefined for PGlite). */
  url: string | undefined;
  /** Closes and, for PostgreSQL, drops the database. */
  drop(): Promise<void>;
}

/** A fresh, migrated database on `engine`: a new PostgreSQL database, or an in-memory PGlite. */
export async function freshDatabase(engine: Engine): Promise<TestDatabase> {
  if (engine === 'pglite') {
    const handle = await openDatabase({ pgliteDir: 'memory://' });
    await handle.migrate();
    return { handle, url: undefined, drop: () => handle.close() };
  }
  const url = await createPostgresDatabase();
  const handle = await openDatabase({ url });
  await handle.migrate();
  return {
    handle,
    url,
    drop: async () => {
      await handle.close();
      await dropPostgresDatabase(url);
    },
  };
}

/** Creates an empty database `ons_certs_test_<random>` and returns its URL. */
export async function createPostgresDatabase(): Promise<string> {
  const name = `ons_certs_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropPostgresDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}
