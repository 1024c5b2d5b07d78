import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, certificateRequests } from '../../src/db/schema.ts';
import { blockKey } from '../../src/services/blocked-keys.ts';
import { approveVersion, createConnector, createVersion } from '../../src/services/connectors.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { approveRequest } from '../../src/services/decide-request.ts';
import { addEnvironment } from '../../src/services/environments.ts';
import type { Outcome } from '../../src/services/outcome.ts';
import { createSupplier } from '../../src/services/suppliers.ts';
import { uploadCsr } from '../../src/services/upload-csr.ts';
import { ENGINES, freshDatabase, type TestDatabase } from '../helpers/database.ts';
import { makeCsr } from '../helpers/services.ts';
import { testContext } from '../helpers/services.ts';

const admin = { kind: 'admin' } as const;
const alice = { kind: 'approver', login: 'alice', githubId: 42 } as const;
function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.failures)}`);
  return outcome.value;
}

describe.each(ENGINES)('a key blocked while its request waits for approval (%s)', (engine) => {
  let testDb: TestDatabase;
  let ctx: ServiceContext;
  let supplier: { kind: 'supplier'; supplierId: string };

  beforeAll(async () => {
    testDb = await freshDatabase(engine);
    ctx = await testContext(testDb.handle, { minRsaBits: 2048 });
    const created = value(await createSupplier(ctx, admin, { name: 'Waiting B.V.', email: 'w@example.com' }));
    supplier = { kind: 'supplier', supplierId: created.id };
    value(await createConnector(ctx, supplier, { technicalName: 'wait_conn', name: 'Wait' }));
    value(await createVersion(ctx, supplier, 'wait_conn', { version: '1.0' }));
    value(await approveVersion(ctx, admin, 'wait_conn', '1.0'));
    value(
      await addEnvironment(
        ctx,
        supplier,
        { technicalName: 'wait_conn', version: '1.0' },
        { customerCode: 'TE1234' },
      ),
    );
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  it('is refused at approval with key_blocked: nothing signed, the request invalid, the audit log says why', async () => {
    const { csr } = await makeCsr('wait_conn-TE1234-blocked');
    const line = { technicalName: 'wait_conn', version: '1.0', customerCode: 'TE1234' };
    const uploaded = value(await uploadCsr(ctx, supplier, line, csr));
    expect(uploaded.request.state).toBe('awaiting_approval');
    const [row] = await ctx.db
      .select()
      .from(certificateRequests)
      .where(eq(certificateRequests.id, uploaded.request.id));

    value(await blockKey(ctx, admin, { publicKeySha256: row!.publicKeySha256!, reason: 'leaked' }));
    const approved = await approveRequest(ctx, alice, uploaded.request.id);
    expect(approved.ok ? [] : approved.failures.map((f) => f.code)).toEqual(['key_blocked']);

    const [after] = await ctx.db
      .select()
      .from(certificateRequests)
      .where(eq(certificateRequests.id, uploaded.request.id));
    expect(after?.state).toBe('invalid');
    expect(after?.errors?.map((e) => e.code)).toEqual(['key_blocked']);
    const refused = await ctx.db.select().from(auditLog).where(eq(auditLog.requestId, uploaded.request.id));
    expect(refused.map((a) => [a.action, a.reason])).toContainEqual(['request.refused', 'key_blocked']);
    expect(refused.map((a) => a.action)).not.toContain('certificate.issued');
  });

  it('is refused at approval when the policy is stricter than at the upload (the whole policy is judged again), not signed and no error', async () => {
    const { csr } = await makeCsr('wait_conn-TE1234-stricter');
    const line = { technicalName: 'wait_conn', version: '1.0', customerCode: 'TE1234' };
    const uploaded = value(await uploadCsr(ctx, supplier, line, csr));
    expect(uploaded.request.state).toBe('awaiting_approval');

    // The service restarted with CSR_MIN_RSA_BITS raised while the request waited.
    const stricter = { ...ctx, minRsaBits: 8192 };
    const approved = await approveRequest(stricter, alice, uploaded.request.id);
    expect(approved.ok ? [] : approved.failures.map((f) => f.code)).toEqual(['key_too_small']);
    const [after] = await ctx.db
      .select()
      .from(certificateRequests)
      .where(eq(certificateRequests.id, uploaded.request.id));
    expect(after?.state).toBe('invalid');
  });
});
