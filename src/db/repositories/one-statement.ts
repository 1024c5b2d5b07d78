import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';

/**
 * Several writes as ONE statement: `with part0 as (...), part1 as (...) <last>`. A statement is
 * atomic on its own and costs one round trip; PostgreSQL runs every data-modifying part of a
 * WITH, and checks foreign keys at the end of the statement, so the order does not matter.
 */
export function oneStatement(parts: SQLWrapper[], last: SQLWrapper): SQL {
  const ctes = parts.map((part, i) => sql`${sql.identifier(`part${i}`)} as (${part.getSQL()})`);
  return sql`with ${sql.join(ctes, sql`, `)} ${last.getSQL()}`;
}
