import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { suppliers, versions } from '../../src/db/schema.ts';
import { createConnector, createVersion } from '../../src/services/connectors.ts';
import { supplierForToken } from '../../src/services/suppliers.ts';
import { hashToken } from '../../src/services/tokens.ts';
import { runCli } from '../helpers/cli.ts';
import { createPostgresDatabase, dropPostgresDatabase } from '../helpers/database.ts';
import { tempDir } from '../helpers/fixtures.ts';

describe.each(['pglite', 'postgres'] as const)('db migrate, supplier add, version approve (%s)', (engine) => {
  let env: Record<string, string>;
  let url: string | undefined;
  const open = () => openDatabase(url ? { url } : { pgliteDir: `${env.DATA_DIR}/pglite` });

  beforeAll(async () => {
    url = engine === 'postgres' ? await createPostgresDatabase() : undefined;
    env = { DATA_DIR: await tempDir(), ...(url ? { DATABASE_URL: url } : {}) };
  });
  afterAll(async () => {
    if (url) await dropPostgresDatabase(url);
  });

  it('applies the migrations, and again without harm', async () => {
    for (let run = 0; run < 2; run++) {
      const result = await runCli(['db', 'migrate'], env);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^migrations applied/);
    }
  });

  it('registers a supplier and prints its token once, storing only its hash', async () => {
    const result = await runCli(
      [
        'supplier',
        'add',
        '--name',
        'Example B.V.',
        '--email',
        'pki@example.com',
        '--github',
        'Example-Dev',
        '--github',
        'ops-bot',
      ],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    const token = result.stdout.trim();
    expect(token).toMatch(/^ons_[A-Za-z0-9_-]{43}$/);
    expect(result.stderr).toContain('created supplier "Example B.V."');
    expect(result.stderr).toContain('example-dev, ops-bot');
    expect(result.stderr).not.toContain(token);

    const handle = await open();
    try {
      const found = await supplierForToken({ db: handle.db }, token);
      expect(found?.name).toBe('Example B.V.');
      const rows = await handle.db.select().from(suppliers);
      expect(rows.map((r) => r.tokenHash)).toContain(hashToken(token));
      expect(JSON.stringify(rows)).not.toContain(token);
    } finally {
      await handle.close();
    }
    const taken = await runCli(
      ['supplier', 'add', '--name', 'Other', '--email', 'o@example.com', '--github', 'example-dev'],
      env,
    );
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('github_login_taken');
  });

  it('approves a version, and says so when there is no such version', async () => {
    const missing = await runCli(['version', 'approve', 'hr_integration', '1.0'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not_found: version 1.0 of connector hr_integration does not exist');

    const handle = await open();
    try {
      const supplier = (await handle.db.select().from(suppliers))[0]!;
      const actor = { kind: 'supplier' as const, supplierId: supplier.id };
      const ctx = { db: handle.db } as Parameters<typeof createConnector>[0];
      await createConnector(ctx, actor, { technicalName: 'hr_integration', name: 'HR' });
      await createVersion(ctx, actor, 'hr_integration', { version: '1.0' });
    } finally {
      await handle.close();
    }
    const approved = await runCli(['version', 'approve', 'hr_integration', '1.0'], env);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain('hr_integration 1.0 is approved');

    const check = await open();
    try {
      const [row] = await check.db.select().from(versions).where(eq(versions.version, '1.0'));
      expect(row?.state).toBe('approved');
      expect(row?.approvedAt).toBeInstanceOf(Date);
    } finally {
      await check.close();
    }
  });

  it('answers wrong usage with exit code 2', async () => {
    for (const args of [
      ['supplier', 'add', '--name', 'X'],
      ['version', 'approve', 'only-one'],
      ['db', 'migrate', 'extra'],
      ['db', 'drop'],
    ]) {
      const result = await runCli(args, env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('usage: ons-certs');
    }
  });
});
