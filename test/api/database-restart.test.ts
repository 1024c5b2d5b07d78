import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, dropPostgresDatabase } from '../helpers/database.ts';
import { CA_DIR, ROOT, tempDir } from '../helpers/fixtures.ts';
import { eventually } from '../helpers/github.ts';
import { httpCall } from '../helpers/http.ts';
import { freePort } from '../helpers/net.ts';

const ADMIN = 'admin-token-for-restart-tests-0123456789';

describe('PostgreSQL ending the connection of a running statement (a restart under load)', () => {
  let databaseUrl = '';
  let child: ChildProcess | undefined;
  let log = '';
  let base = '';

  beforeAll(async () => {
    databaseUrl = await createPostgresDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['bin/ons-certs.js', 'serve'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        DATA_DIR: await tempDir('ons-certs-pg-restart-'),
        DATABASE_URL: databaseUrl,
        QUEUE_PREFIX: `test-pg-restart-${randomUUID()}`,
        CA_CERT_PATH: join(CA_DIR, 'ca.pem'),
        CA_KEY_PATH: join(CA_DIR, 'ca.key'),
        ADMIN_TOKEN: ADMIN,
        WORKERS: 'web',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (log += chunk));
    child.stderr!.on('data', (chunk) => (log += chunk));
    await eventually(async () => {
      expect(child!.exitCode, log).toBeNull();
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    }, 30_000);
  }, 60_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  });

  it('the service goes on: that request is answered 503 database_unavailable, the next ones as usual', async () => {
    const created = await httpCall<{ token: string }>(`${base}/api/admin/suppliers`, 'POST', ADMIN, {
      name: 'Restart B.V.',
      email: 'restart@example.com',
    });
    expect(created.status).toBe(201);

    // A statement of the service waits on a lock while PostgreSQL ends its connection.
    const locker = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
    let blocked: Promise<{ status: number; json: unknown; headers?: unknown }> | undefined;
    try {
      await locker.begin(async (tx) => {
        await tx`lock table suppliers in access exclusive mode`;
        blocked = httpCall(`${base}/api/connectors`, 'GET', created.json.token);
        await eventually(async () => {
          const waiting = await tx<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`;
          expect(waiting[0]?.n).toBeGreaterThan(0);
        });
        await tx`
          select pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid()`;
      });
    } finally {
      await locker.end({ timeout: 1 });
    }
    const refused = await blocked!;
    expect([refused.status, refused.json]).toEqual([
      503,
      {
        errors: [
          {
            code: 'database_unavailable',
            message: 'the database could not be reached; try again in a moment',
          },
        ],
      },
    ]);

    // Still running, and answering from new connections.
    await eventually(async () => expect((await fetch(`${base}/healthz`)).status).toBe(200));
    const listed = await httpCall(`${base}/api/connectors`, 'GET', created.json.token);
    expect([listed.status, listed.json]).toEqual([200, []]);
    expect(child!.exitCode).toBeNull();
    expect(log).toContain('request failed: no database connection');
  });
});
