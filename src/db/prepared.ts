import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Executor } from './database.ts';

const cache = new WeakMap<object, Map<string, unknown>>();

/**
 * A query built once per database instead of on every call. Drizzle assembles the SQL text of a
 * query each time it runs (a noticeable part of an upload's main-thread time), so the queries
 * of the hot paths are prepared with placeholders. Inside a transaction the query is built as
 * usual (a prepared query belongs to the database's own session); `build` gets the executor to
 * build on either way.
 */
export function prepared<T>(db: Executor, name: string, build: (db: Executor) => T): T {
  if (db instanceof PgTransaction) return build(db);
  let queries = cache.get(db);
  if (!queries) cache.set(db, (queries = new Map()));
  let query = queries.get(name) as T | undefined;
  if (query === undefined) queries.set(name, (query = build(db)));
  return query;
}
