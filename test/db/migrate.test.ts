import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../../src/db/database.ts';
import { createPostgresDatabase, dropPostgresDatabase } from '../helpers/database.ts';

describe('migrations on PostgreSQL', () => {
  const urls: string[] = [];
  afterAll(async () => {
    for (const url of urls) await dropPostgresDatabase(url);
  });

  it('three processes starting together on a fresh database all migrate it without an error', async () => {
    const url = await createPostgresDatabase();
    urls.push(url);
    const handles = await Promise.all([1, 2, 3].map(() => openDatabase({ url })));
    try {
      const results = await Promise.allSettled(handles.map((h) => h.migrate()));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      const applied = await handles[0]!.db.execute(
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      );
      const tables = await handles[0]!.db.execute(
        sql`select count(*)::int as n from information_schema.tables where table_name = 'certificates'`,
      );
      expect((tables as unknown as { n: number }[])[0]!.n).toBe(1);
      // Each migration recorded once, not once per process.
      const files = (applied as unknown as { n: number }[])[0]!.n;
      expect(files).toBeGreaterThanOrEqual(5);
      await handles[1]!.migrate();
      const again = await handles[0]!.db.execute(
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      );
      expect((again as unknown as { n: number }[])[0]!.n).toBe(files);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });
});
