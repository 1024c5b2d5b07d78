import { and, asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditLog,
  certificateRequests,
  connectors,
  environmentLines,
  suppliers,
  versions,
} from '../../src/db/schema.ts';
import type { Actor } from '../../src/services/actor.ts';
import { setCertificateEnabled } from '../../src/services/certificates.ts';
import {
  approveVersion,
  createConnector,
  createVersion,
  listConnectors,
} from '../../src/services/connectors.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { addEnvironment, listEnvironments } from '../../src/services/environments.ts';
import type { Outcome } from '../../src/services/outcome.ts';
import { approveRequest, rejectRequest } from '../../src/services/decide-request.ts';
import { currentCertificate } from '../../src/services/requests.ts';
import { uploadCsr } from '../../src/services/upload-csr.ts';
import { createSupplier } from '../../src/services/suppliers.ts';
import { ENGINES, freshDatabase, type TestDatabase } from '../helpers/database.ts';
import { makeCsr, testContext } from '../helpers/services.ts';

type Supplier = Extract<Actor, { kind: 'supplier' }>;
const admin = { kind: 'admin' } as const;
const alice = { kind: 'approver', login: 'alice', githubId: 42 } as const;
const SQL_LIKE = "'; drop table suppliers; --";

function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.failures)}`);
  return outcome.value;
}
const codes = (outcome: Outcome<unknown>) => (outcome.ok ? [] : outcome.failures.map((f) => f.code));

/** Every message down the error's cause chain (drizzle wraps the driver's error). */
function messages(error: unknown): string {
  const found: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) found.push(current.message);
  return found.join(' | ');
}

describe.each(ENGINES)('isolation between suppliers and the audit log on %s', (engine) => {
  let testDb: TestDatabase;
  let ctx: ServiceContext;
  let a: Supplier;
  let b: Supplier;
  let serialA: string;
  const where = { technicalName: 'a_connector', version: '1.0.0' };
  const lineA = { ...where, customerCode: 'TE1002' };

  beforeAll(async () => {
    testDb = await freshDatabase(engine);
    ctx = await testContext(testDb.handle, { minRsaBits: 2048 });
    const supplier = async (name: string, email: string): Promise<Supplier> => ({
      kind: 'supplier',
      supplierId: value(await createSupplier(ctx, admin, { name, email })).id,
    });
    a = await supplier('Supplier A', 'a@example.com');
    b = await supplier('Supplier B', 'b@example.com');
    value(await createConnector(ctx, a, { technicalName: 'a_connector', name: 'A' }));
    value(await createVersion(ctx, a, 'a_connector', { version: '1.0.0' }));
    value(await addEnvironment(ctx, a, where, { customerCode: 'TE1002' }));
    const signed = value(await uploadCsr(ctx, a, lineA, (await makeCsr('a_connector-TE1002-a')).csr));
    serialA = signed.certificate!.serial;
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  it("supplier B gets not_found for everything of supplier A's", async () => {
    expect(await listConnectors(ctx, b)).toEqual([]);
    expect(codes(await listEnvironments(ctx, b, where))).toEqual(['not_found']);
    expect(codes(await addEnvironment(ctx, b, where, { customerCode: 'TE1003' }))).toEqual(['not_found']);
    expect(codes(await createVersion(ctx, b, 'a_connector', { version: '2.0.0' }))).toEqual(['not_found']);
    const csr = (await makeCsr('a_connector-TE1002-b')).csr;
    expect(codes(await uploadCsr(ctx, b, lineA, csr))).toEqual(['not_found']);
    expect(codes(await currentCertificate(ctx, b, lineA))).toEqual(['not_found']);
    expect(
      codes(await setCertificateEnabled(ctx, b, serialA, { enabled: false, reason: 'mine now' })),
    ).toEqual(['not_found']);
    // Nothing changed for A.
    expect(value(await currentCertificate(ctx, a, lineA))).toMatchObject({ serial: serialA, enabled: true });
    expect(value(await listEnvironments(ctx, a, where))).toHaveLength(1);
    expect((await listConnectors(ctx, a))[0]?.versions).toEqual([{ version: '1.0.0', state: 'editable' }]);
  });

  it("the admin sees and acts on every supplier's data", async () => {
    expect((await listConnectors(ctx, admin)).map((c) => c.technicalName)).toEqual(['a_connector']);
    expect(value(await listEnvironments(ctx, admin, where))).toHaveLength(1);
    expect(value(await currentCertificate(ctx, admin, lineA)).serial).toBe(serialA);
    value(await createVersion(ctx, admin, 'a_connector', { version: '1.1.0' }));
    value(await addEnvironment(ctx, admin, { ...where, version: '1.1.0' }, { customerCode: 'TE1002' }));
    const csr = (await makeCsr('a_connector-TE1002-admin')).csr;
    expect(value(await uploadCsr(ctx, admin, { ...lineA, version: '1.1.0' }, csr)).request.state).toBe(
      'signed',
    );
    const disabled = value(
      await setCertificateEnabled(ctx, admin, serialA, { enabled: false, reason: 'leak' }),
    );
    expect(disabled.enabled).toBe(false);
    expect(value(await setCertificateEnabled(ctx, a, serialA, { enabled: true })).enabled).toBe(true);
  });

  it('records every state change in audit_log with actor, action, subject and reason', async () => {
    value(await approveVersion(ctx, admin, 'a_connector', '1.0.0'));
    value(await addEnvironment(ctx, a, where, { customerCode: 'CF1234' }));
    const cf = { ...where, customerCode: 'CF1234' };
    const first = value(await uploadCsr(ctx, a, cf, (await makeCsr('a_connector-CF1234-one')).csr));
    const second = value(await uploadCsr(ctx, a, cf, (await makeCsr('a_connector-CF1234-two')).csr));
    const refused = await uploadCsr(ctx, a, cf, (await makeCsr('a_connector-CF9999-bad')).csr);
    expect(codes(refused)).toEqual(['cn_customer_code_mismatch']);
    value(await rejectRequest(ctx, alice, second.request.id, 'unknown supplier'));
    const third = value(await uploadCsr(ctx, a, cf, (await makeCsr('a_connector-CF1234-three')).csr));
    const approved = value(await approveRequest(ctx, alice, third.request.id, { deliveryId: 'delivery-1' }));
    const serial = approved.certificate!.serial;
    value(await setCertificateEnabled(ctx, a, serial, { enabled: false, reason: 'key shared' }));
    value(await setCertificateEnabled(ctx, a, serial, { enabled: false, reason: 'no change' }));
    value(await setCertificateEnabled(ctx, admin, serial, { enabled: true }));

    const log = await ctx.db.select().from(auditLog).orderBy(asc(auditLog.id));
    const [connector] = await ctx.db
      .select()
      .from(connectors)
      .where(eq(connectors.technicalName, 'a_connector'));
    const [version] = await ctx.db
      .select()
      .from(versions)
      .where(and(eq(versions.connectorId, connector!.id), eq(versions.version, '1.0.0')));
    const [cfLine] = await ctx.db
      .select()
      .from(environmentLines)
      .where(and(eq(environmentLines.versionId, version!.id), eq(environmentLines.customerCode, 'CF1234')));
    const [invalid] = await ctx.db
      .select()
      .from(certificateRequests)
      .where(and(eq(certificateRequests.lineId, cfLine!.id), eq(certificateRequests.state, 'invalid')));
    const A = `supplier:${a.supplierId}`;
    const ALICE = 'github:alice#42';
    const entries = log.map((e) => [e.actor, e.action, e.subjectType, e.subjectId, e.reason]);
    expect(entries).toEqual(
      expect.arrayContaining([
        ['admin', 'supplier.created', 'supplier', a.supplierId, null],
        [A, 'connector.created', 'connector', connector!.id, null],
        [A, 'version.created', 'version', version!.id, null],
        ['admin', 'version.approved', 'version', version!.id, null],
        [A, 'line.added', 'line', cfLine!.id, null],
        [A, 'request.uploaded', 'request', first.request.id, null],
        [A, 'request.superseded', 'request', first.request.id, 'a newer CSR was uploaded on this line'],
        [A, 'request.refused', 'request', invalid!.id, null],
        [ALICE, 'request.rejected', 'request', second.request.id, 'unknown supplier'],
        [ALICE, 'request.approved', 'request', third.request.id, null],
        // The signing is recorded as the act of whoever caused it: here the approver.
        [ALICE, 'certificate.issued', 'certificate', serial, null],
        [A, 'certificate.disabled', 'certificate', serial, 'key shared'],
        ['admin', 'certificate.enabled', 'certificate', serial, null],
      ]),
    );
    // Setting the state a certificate already has records nothing.
    const disabledRows = log.filter((e) => e.subjectId === serial && e.action === 'certificate.disabled');
    expect(disabledRows).toHaveLength(1);
    const approval = log.find((e) => e.action === 'request.approved');
    expect(approval).toMatchObject({ requestId: third.request.id, deliveryId: 'delivery-1' });
    const issued = log.find((e) => e.action === 'certificate.issued' && e.subjectId === serial);
    expect(issued).toMatchObject({ requestId: third.request.id, deliveryId: 'delivery-1' });
    expect(log.every((e) => e.at instanceof Date)).toBe(true);
  });

  it('refuses to update, delete or truncate audit_log rows (append-only triggers)', async () => {
    const before = await ctx.db.select().from(auditLog).orderBy(asc(auditLog.id));
    expect(before.length).toBeGreaterThan(0);
    const attempts = [
      sql`update audit_log set reason = 'rewritten'`,
      sql`update audit_log set actor = 'nobody' where id = ${before[0]!.id}`,
      sql`delete from audit_log`,
      sql`delete from audit_log where id = ${before[0]!.id}`,
      sql`truncate audit_log`,
    ];
    for (const attempt of attempts) {
      const error: unknown = await ctx.db.execute(attempt).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(messages(error)).toMatch(/append-only/);
    }
    expect(await ctx.db.select().from(auditLog).orderBy(asc(auditLog.id))).toEqual(before);
  });

  it('stores and returns SQL-looking names verbatim', async () => {
    const c = value(await createSupplier(ctx, admin, { name: SQL_LIKE, email: 'c@example.com' }));
    const actor: Supplier = { kind: 'supplier', supplierId: c.id };
    const [row] = await ctx.db.select().from(suppliers).where(eq(suppliers.id, c.id));
    expect(row?.name).toBe(SQL_LIKE);
    expect(c.name).toBe(SQL_LIKE);
    expect(
      value(await createConnector(ctx, actor, { technicalName: 'c_connector', name: SQL_LIKE })).name,
    ).toBe(SQL_LIKE);
    expect(await listConnectors(ctx, actor)).toEqual([
      { technicalName: 'c_connector', name: SQL_LIKE, versions: [] },
    ]);
    expect(codes(await createConnector(ctx, actor, { technicalName: SQL_LIKE, name: 'x' }))).toEqual([
      'invalid_technical_name',
    ]);
    const reason = `${SQL_LIKE} and "quotes" \\ backslash`;
    value(await setCertificateEnabled(ctx, admin, serialA, { enabled: false, reason }));
    const [entry] = await ctx.db.select().from(auditLog).where(eq(auditLog.reason, reason));
    expect(entry).toMatchObject({ action: 'certificate.disabled', subjectId: serialA, reason });
    expect(await ctx.db.select({ id: suppliers.id }).from(suppliers)).toHaveLength(3);
  });
});
