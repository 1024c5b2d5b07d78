// The daily expiry scan over 100,000 certificates on PostgreSQL: it must read the partial index
// on enabled expiry dates and take less than a second. The reference, measured in the same run
// on the same table, is a plain `select count(*)` of it (performance.md, "Other figures").
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../src/db/database.ts';
import { createLogger } from '../src/log.ts';
import { runExpiryScan } from '../src/mail/expiry-scan.ts';
import { openQueues, redisConnection } from '../src/queue/queues.ts';
import { createPostgresDatabase, dropPostgresDatabase } from '../test/helpers/database.ts';
import { ratioLine } from './support.ts';

const CERTIFICATES = Number(process.env['BENCH_CERTIFICATES'] ?? 100_000);
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export async function runExpiryScanBenchmark(): Promise<string[]> {
  const url = await createPostgresDatabase();
  const handle = await openDatabase({ url });
  const prefix = `bench-expiry-${randomUUID()}`;
  const connection = redisConnection(REDIS_URL);
  const queues = openQueues(connection, prefix);
  try {
    await handle.migrate();
    await seed(handle.db, CERTIFICATES);
    await handle.db.execute('analyze');
    const now = new Date();
    const scan = {
      db: handle.db,
      queues,
      log: createLogger('silent'),
      publicUrl: 'https://certs.example.com',
      reminderDays: 30,
    };
    const plan = await handle.db.execute(
      `explain select c.id from certificates c where c.enabled and c.not_after <= now() + interval '30 days'
         and not exists (select 1 from certificates n where n.line_id = c.line_id and n.not_after > c.not_after)`,
    );
    const planText = (plan as unknown as Record<string, string>[]).map((r) => Object.values(r)[0]).join('\n');
    const count = await best(3, () => handle.db.execute('select count(*) from certificates'));
    let told = 0;
    const scanMs = await best(1, async () => {
      const result = await runExpiryScan(scan, now);
      told = result.reminders + result.expired;
    });
    // A second scan finds everything told already: what every later day costs when nothing is new.
    const againMs = await best(3, () => runExpiryScan(scan, now));
    const usesIndex = planText.includes('certificates_enabled_expiry');
    return [
      ratioLine('expiry.scan', scanMs / count, undefined, [
        `the daily scan over ${CERTIFICATES.toLocaleString('en')} certificates took ${scanMs.toFixed(0)} ms ` +
          `(target < 1000 ms: ${scanMs < 1000 ? 'met' : 'MISSED'}) for ${told} new notices queued, against ` +
          `${count.toFixed(1)} ms for select count(*) of the table (ratio = scan / count)`,
        `a scan with nothing new ${againMs.toFixed(0)} ms`,
        `plan uses certificates_enabled_expiry: ${usesIndex ? 'yes' : 'NO'}`,
      ]),
      ...planText.split('\n').map((line) => `  ${line}`),
    ];
  } finally {
    await queues.mail.obliterate({ force: true }).catch(() => undefined);
    await queues.close();
    await handle.close();
    await dropPostgresDatabase(url);
  }
}

/** The fastest of `rounds` runs, in ms. */
async function best(rounds: number, work: () => Promise<unknown>): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await work();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

/**
 * A year of certificates, expiring evenly over the next 365 days, one line each; those expiring
 * within 29 days were told by earlier daily scans, so today's scan finds about one day's worth.
 */
export async function seedForPlay(db: Awaited<ReturnType<typeof openDatabase>>['db'], n: number) {
  return seed(db, n);
}
async function seed(db: Awaited<ReturnType<typeof openDatabase>>['db'], n: number): Promise<void> {
  await db.execute(`insert into suppliers (id, name, email, token_hash)
    values ('00000000-0000-4000-8000-000000000001', 'Bench B.V.', 'pki@example.com', 'bench')`);
  await db.execute(`insert into connectors (id, supplier_id, technical_name, name)
    values ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'bench', 'Bench')`);
  await db.execute(`insert into versions (id, connector_id, version, state)
    select md5('v' || i)::uuid, '00000000-0000-4000-8000-000000000002', 'v' || i, 'approved'
    from generate_series(1, ${n}) i`);
  await db.execute(`insert into environment_lines (id, version_id, customer_code, kind)
    select md5('l' || i)::uuid, md5('v' || i)::uuid, 'TE1002', 'development' from generate_series(1, ${n}) i`);
  await db.execute(`insert into certificate_requests (id, line_id, csr_pem, state)
    select md5('r' || i)::uuid, md5('l' || i)::uuid, '-', 'signed' from generate_series(1, ${n}) i`);
  await db.execute(`insert into certificates (id, request_id, line_id, serial, common_name, subject, pem,
      fingerprint_sha256, public_key_sha256, not_before, not_after)
    select md5('c' || i)::uuid, md5('r' || i)::uuid, md5('l' || i)::uuid, md5('s' || i),
      'bench-TE1002-' || i, 'CN=bench-TE1002-' || i, '-', md5('f' || i), md5('k' || i),
      now() - interval '1 day', now() + (i::float / ${n} * 365) * interval '1 day'
    from generate_series(1, ${n}) i`);
  await db.execute(`insert into mail_messages (id, kind, certificate_id, recipient, subject, state)
    select 'mail-expiry-' || serial, 'expiry_reminder', id, 'pki@example.com', 'told', 'sent'
    from certificates where not_after <= now() + interval '29 days'`);
}
