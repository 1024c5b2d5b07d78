import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, certificateRequests, certificates, consents } from '../../src/db/schema.ts';
import type { Actor } from '../../src/services/actor.ts';
import { approveVersion, createConnector, createVersion } from '../../src/services/connectors.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { addEnvironment } from '../../src/services/environments.ts';
import type { Outcome } from '../../src/services/outcome.ts';
import { approveRequest } from '../../src/services/decide-request.ts';
import { uploadCsr } from '../../src/services/upload-csr.ts';
import { createSupplier } from '../../src/services/suppliers.ts';
import { freshDatabase, type Engine, type TestDatabase } from '../helpers/database.ts';
import { createLogger } from '../../src/log.ts';
import { makeCsr, makeCsrForKey, testContext } from '../helpers/services.ts';

type Supplier = Extract<Actor, { kind: 'supplier' }>;
const admin = { kind: 'admin' } as const;
const alice = { kind: 'approver', login: 'alice', githubId: 42 } as const;

function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.failures)}`);
  return outcome.value;
}
const codes = (outcome: Outcome<unknown>) => (outcome.ok ? [] : outcome.failures.map((f) => f.code));

/** A fresh database with one supplier, and a helper to make versions with lines quickly. */
function setup(engine: Engine) {
  const state = {} as { testDb: TestDatabase; ctx: ServiceContext; supplier: Supplier };
  beforeAll(async () => {
    state.testDb = await freshDatabase(engine);
    state.ctx = await testContext(state.testDb.handle, { minRsaBits: 2048 });
    const created = value(
      await createSupplier(state.ctx, admin, { name: 'Race Co', email: 'race@example.com' }),
    );
    state.supplier = { kind: 'supplier', supplierId: created.id };
  });
  afterAll(async () => {
    await state.testDb?.drop();
  });
  async function connectorWith(technicalName: string, versions: string[], customerCode: string) {
    const { ctx, supplier } = state;
    value(await createConnector(ctx, supplier, { technicalName, name: technicalName }));
    for (const version of versions) {
      value(await createVersion(ctx, supplier, technicalName, { version }));
      if (customerCode !== 'TE1002') value(await approveVersion(ctx, admin, technicalName, version));
      value(await addEnvironment(ctx, supplier, { technicalName, version }, { customerCode }));
    }
  }
  return { state, connectorWith };
}

const ENGINES_FOR_APPROVALS: Engine[] = ['postgres', 'pglite'];

describe.each(ENGINES_FOR_APPROVALS)('20 concurrent approvals of one request on %s', (engine) => {
  const { state, connectorWith } = setup(engine);

  it('issue exactly one certificate; every caller gets it, one of them as the signer', async () => {
    const { ctx, supplier } = state;
    await connectorWith('approve_race', ['1.0.0'], 'CF1234');
    const csr = (await makeCsr('approve_race-CF1234-x')).csr;
    const where = { technicalName: 'approve_race', version: '1.0.0', customerCode: 'CF1234' };
    const waiting = value(await uploadCsr(ctx, supplier, where, csr));
    expect(waiting.request.state).toBe('awaiting_approval');
    const id = waiting.request.id;

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => approveRequest(ctx, alice, id, { deliveryId: `delivery-${i}` })),
    );
    expect(outcomes.map(codes)).toEqual(Array.from({ length: 20 }, () => []));
    const results = outcomes.map(value);
    expect(results.filter((r) => !r.alreadySigned)).toHaveLength(1);
    const serials = new Set(results.map((r) => r.certificate?.serial));
    expect(serials.size).toBe(1);
    expect([...serials][0]).toMatch(/^[0-9a-f]{32}$/);
    expect(results.every((r) => r.request.state === 'signed' && r.request.id === id)).toBe(true);

    const rows = await ctx.db.select().from(certificates).where(eq(certificates.requestId, id));
    expect(rows.map((r) => r.serial)).toEqual([...serials]);
    expect(await ctx.db.select().from(consents).where(eq(consents.requestId, id))).toHaveLength(1);
    const audited = await ctx.db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(
        and(eq(auditLog.requestId, id), inArray(auditLog.action, ['request.approved', 'certificate.issued'])),
      );
    expect(audited.map((a) => a.action).sort()).toEqual(['certificate.issued', 'request.approved']);
  });
});

describe('concurrent uploads on PostgreSQL', () => {
  const { state, connectorWith } = setup('postgres');

  describe('50 parallel uploads on 50 development lines', () => {
    const versions = Array.from({ length: 50 }, (_, i) => `1.${i}.0`);
    let csrs: string[] = [];
    // Making 50 keys is the slow part: done before the test, which then only races the uploads.
    beforeAll(async () => {
      await connectorWith('upload_race', versions, 'TE1002');
      csrs = (await Promise.all(versions.map((_, i) => makeCsr(`upload_race-TE1002-n${i}`)))).map(
        (m) => m.csr,
      );
    }, 240_000);

    it('50 signed, 50 distinct serials, 50 certificate rows', async () => {
      const { ctx, supplier } = state;
      const outcomes = await Promise.all(
        versions.map((version, i) =>
          uploadCsr(
            ctx,
            supplier,
            { technicalName: 'upload_race', version, customerCode: 'TE1002' },
            csrs[i]!,
          ),
        ),
      );
      expect(outcomes.flatMap(codes)).toEqual([]);
      const results = outcomes.map(value);
      expect(results.every((r) => r.request.state === 'signed')).toBe(true);
      const serials = new Set(results.map((r) => r.certificate?.serial));
      expect(serials.size).toBe(50);

      const requestIds = results.map((r) => r.request.id);
      const rows = await ctx.db
        .select()
        .from(certificates)
        .where(inArray(certificates.requestId, requestIds));
      expect(rows).toHaveLength(50);
      expect(new Set(rows.map((r) => r.serial))).toEqual(serials);
      expect(new Set(rows.map((r) => r.lineId)).size).toBe(50);
    });
  });

  it('the same key uploaded on two lines at once: exactly one signed, the other key_reused', async () => {
    const { supplier } = state;
    const rounds = 5;
    // Hears the lost races: the loser's write hits the unique key on public_key_sha256, it is run
    // again and then answers key_reused. At least one round must show that race.
    const races: unknown[] = [];
    const log = createLogger('debug', {
      write: (line: string) => {
        const entry = JSON.parse(line) as { msg: string; constraint?: string };
        if (entry.msg.includes('lost a race')) races.push(entry.constraint);
      },
    });
    const ctx: ServiceContext = { ...state.ctx, log };
    await connectorWith(
      'key_race',
      Array.from({ length: rounds * 2 }, (_, i) => `2.${i}.0`),
      'TE1002',
    );
    for (let round = 0; round < rounds; round++) {
      const first = await makeCsr(`key_race-TE1002-r${round}`);
      const second = await makeCsrForKey(`key_race-TE1002-r${round}b`, first.keyPath);
      const line = (i: number) => ({
        technicalName: 'key_race',
        version: `2.${i}.0`,
        customerCode: 'TE1002',
      });
      const outcomes = await Promise.all([
        uploadCsr(ctx, supplier, line(round * 2), first.csr),
        uploadCsr(ctx, supplier, line(round * 2 + 1), second),
      ]);
      const signed = outcomes.filter((o) => o.ok);
      expect(signed).toHaveLength(1);
      expect(outcomes.map(codes).sort()).toEqual([[], ['key_reused']]);

      const publicKeySha256 = (
        await ctx.db
          .select({ key: certificateRequests.publicKeySha256 })
          .from(certificateRequests)
          .where(eq(certificateRequests.id, value(signed[0]!).request.id))
      )[0]!.key!;
      expect(
        await ctx.db.select().from(certificates).where(eq(certificates.publicKeySha256, publicKeySha256)),
      ).toHaveLength(1);
      const requests = await ctx.db
        .select({ state: certificateRequests.state })
        .from(certificateRequests)
        .where(eq(certificateRequests.publicKeySha256, publicKeySha256));
      expect(requests.map((r) => r.state).sort()).toEqual(['invalid', 'signed']);
    }
    expect(races.length).toBeGreaterThan(0);
    expect(new Set(races)).toEqual(new Set(['certificates_public_key_sha256_unique']));
  });
});
