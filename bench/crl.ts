import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, asc, eq, gt } from 'drizzle-orm';
import { openDatabase } from '../src/db/database.ts';
import { newestCrl } from '../src/db/repositories/crls.ts';
import { crls } from '../src/db/schema.ts';
import { databaseCrlSource } from '../src/gateway/crl-source.ts';
import { startGateway } from '../src/gateway/gateway.ts';
import { createLogger } from '../src/log.ts';
import { CA_PEM, ping, SERVER_CERT, SERVER_KEY, startCrlWorld } from '../test/helpers/gateway.ts';
import { latencyLine, percentile } from './support.ts';

const DISABLES = 50;
const WARM_UP = 2;
const REFRESH_SECONDS = Number(process.env.BENCH_CRL_REFRESH_SECONDS ?? 1);
const PROBE_EVERY_MS = 10;

/**
 * Disable → the gateway refuses the certificate (docs/performance.md): the time from the
 * `PATCH /api/certificates/{serial}` call to the first TLS handshake the gateway refuses, over
 * 50 disables, with the whole service (web and workers, PostgreSQL, Redis) and the gateway
 * polling the database. Split into the service's part (PATCH → the new CRL stored, from the
 * CRL row's created_at) and the gateway's (stored → refused: at most one refresh interval).
 * Two certificates take turns, each enabled again after its disable is measured; each disable
 * waits a random part of the refresh interval first, so that it does not fall right after a poll.
 */
export async function runCrlBenchmark(): Promise<string[]> {
  const world = await startCrlWorld();
  const reader = await openDatabase({ url: world.databaseUrl });
  try {
    const clients = [await world.issue('bench_a'), await world.issue('bench_b')];
    const caPem = await readFile(CA_PEM, 'utf8');
    const gateway = await startGateway({
      port: 0,
      cert: await readFile(SERVER_CERT),
      key: await readFile(SERVER_KEY),
      caPem,
      crlSource: databaseCrlSource(reader.db),
      refreshMs: REFRESH_SECONDS * 1000,
      log: createLogger('silent'),
    });
    const total: number[] = [];
    const service: number[] = [];
    const gatewayPart: number[] = [];
    try {
      for (let i = 0; i < WARM_UP + DISABLES; i++) {
        const client = clients[i % 2]!;
        // Start from a CRL that lists nobody, with this certificate let in.
        await until(async () => (await newestCrl(reader.db))?.entries === 0);
        await until(async () => (await ping(gateway.port, client, caPem)) === 200);
        const before = (await newestCrl(reader.db))!.crlNumber;
        // Disables come at any moment of the gateway's polling cycle, not right after a poll.
        await sleep(Math.random() * REFRESH_SECONDS * 1000);

        const startedWall = Date.now();
        const started = performance.now();
        const status = await world.setEnabled(client.serial, false);
        if (status !== 200) throw new Error(`PATCH answered ${status}`);
        await until(async () => (await ping(gateway.port, client, caPem)) === 0, PROBE_EVERY_MS);
        const refused = performance.now() - started;
        const storedAt = await firstCrlListing(reader, before);
        if (i >= WARM_UP) {
          total.push(refused);
          service.push(storedAt - startedWall);
          gatewayPart.push(refused - (storedAt - startedWall));
        }
        if ((await world.setEnabled(client.serial, true)) !== 200) throw new Error('enabling failed');
      }
    } finally {
      await gateway.close();
    }
    return [
      latencyLine('crl.disable-to-refused', total, [
        `from the PATCH /api/certificates/{serial} call to the gateway refusing the certificate's TLS handshake ` +
          `(${DISABLES} disables, one run; the service with its workers on PostgreSQL and Redis, the gateway in the same process)`,
        `the gateway polls the database for a new CRL every ${REFRESH_SECONDS} s (ons-certs gateway --crl-refresh-seconds; ` +
          `default 5; so about half of it is expected), probed every ${PROBE_EVERY_MS} ms`,
      ]),
      `  where the time goes (p50/p99 ms): PATCH → new CRL stored (queue job, signing with the RSA-4096 CA) ` +
        `${pair(service)}; stored → refused (the gateway's polling) ${pair(gatewayPart)}`,
    ];
  } finally {
    await reader.close();
    await world.close();
  }
}

/** When the first CRL after `before` that lists a certificate was stored (ms since the epoch). */
async function firstCrlListing(reader: Awaited<ReturnType<typeof openDatabase>>, before: number) {
  const [row] = await reader.db
    .select({ createdAt: crls.createdAt })
    .from(crls)
    .where(and(gt(crls.crlNumber, before), eq(crls.entries, 1)))
    .orderBy(asc(crls.crlNumber))
    .limit(1);
  if (!row) throw new Error('the gateway refused the certificate before any CRL listed it');
  return row.createdAt.getTime();
}

async function until(check: () => Promise<boolean>, everyMs = 5, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(everyMs);
  }
}

const pair = (samples: number[]) =>
  `${percentile(samples, 50).toFixed(0)}/${percentile(samples, 99).toFixed(0)}`;
