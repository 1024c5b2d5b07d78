import { eq } from 'drizzle-orm';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateRequests, certificates, consents, suppliers } from '../../src/db/schema.ts';
import type { Actor } from '../../src/services/actor.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import {
  approveVersion,
  createConnector,
  createVersion,
  listConnectors,
} from '../../src/services/connectors.ts';
import { addEnvironment, listEnvironments } from '../../src/services/environments.ts';
import type { Outcome } from '../../src/services/outcome.ts';
import { approveRequest, rejectRequest } from '../../src/services/decide-request.ts';
import { listRequests } from '../../src/services/requests.ts';
import { uploadCsr } from '../../src/services/upload-csr.ts';
import { setCertificateEnabled } from '../../src/services/certificates.ts';
import { createSupplier, supplierForToken } from '../../src/services/suppliers.ts';
import { ENGINES, freshDatabase, type TestDatabase } from '../helpers/database.ts';
import { CA_DIR, openssl, tempFile } from '../helpers/fixtures.ts';
import { makeCsr, makeCsrForKey, testContext } from '../helpers/services.ts';

const admin = { kind: 'admin' } as const;
const alice = { kind: 'approver', login: 'alice', githubId: 42 } as const;

function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.failures)}`);
  return outcome.value;
}
const codes = (outcome: Outcome<unknown>) => (outcome.ok ? [] : outcome.failures.map((f) => f.code));
/** The failure codes of a call, joined: '' when it succeeded. */
const refusal = async (call: Promise<Outcome<unknown>>) => codes(await call).join(',');

describe.each(ENGINES)('the certificate lifecycle on %s', (engine) => {
  let testDb: TestDatabase;
  let ctx: ServiceContext;
  let supplier: Extract<Actor, { kind: 'supplier' }>;
  let token: string;

  beforeAll(async () => {
    testDb = await freshDatabase(engine);
    ctx = await testContext(testDb.handle, { minRsaBits: 2048 });
    const created = value(
      await createSupplier(ctx, admin, { name: 'Example Software', email: 'pki@example.com' }),
    );
    supplier = { kind: 'supplier', supplierId: created.id };
    token = created.token;
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  /** A connector with version 1.0.0 (approved unless told) and the given lines. */
  async function connectorWith(technicalName: string, lines: string[], approved = true): Promise<void> {
    value(await createConnector(ctx, supplier, { technicalName, name: `${technicalName} connector` }));
    value(await createVersion(ctx, supplier, technicalName, { version: '1.0.0' }));
    if (approved) value(await approveVersion(ctx, admin, technicalName, '1.0.0'));
    for (const customerCode of lines)
      value(await addEnvironment(ctx, supplier, { technicalName, version: '1.0.0' }, { customerCode }));
  }
  const line = (technicalName: string, customerCode: string) => ({
    technicalName,
    version: '1.0.0',
    customerCode,
  });
  const upload = async (technicalName: string, customerCode: string, id = 'x') => {
    const made = await makeCsr(`${technicalName}-${customerCode}-${id}`);
    return { made, outcome: await uploadCsr(ctx, supplier, line(technicalName, customerCode), made.csr) };
  };
  const requestRow = async (id: string) =>
    (await ctx.db.select().from(certificateRequests).where(eq(certificateRequests.id, id)))[0];

  it('createSupplier returns a token once and stores only its hash; supplierForToken finds it', async () => {
    expect(token).toMatch(/^ons_[A-Za-z0-9_-]{40,}$/);
    const rows = await ctx.db.select().from(suppliers);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]?.tokenHash).not.toBe(token);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(await supplierForToken(ctx, token)).toEqual({ id: supplier.supplierId, name: 'Example Software' });
    expect(await supplierForToken(ctx, `${token}x`)).toBeUndefined();
  });

  it('creates connectors and versions and lists them', async () => {
    value(await createConnector(ctx, supplier, { technicalName: 'hr_integration', name: 'HR' }));
    expect(await createVersion(ctx, supplier, 'hr_integration', { version: '1.0.0' })).toEqual({
      ok: true,
      value: { version: '1.0.0', state: 'editable' },
    });
    value(await createVersion(ctx, supplier, 'hr_integration', { version: '1.1.0' }));
    const listed = await listConnectors(ctx, supplier);
    expect(listed.find((c) => c.technicalName === 'hr_integration')).toEqual({
      technicalName: 'hr_integration',
      name: 'HR',
      versions: [
        { version: '1.0.0', state: 'editable' },
        { version: '1.1.0', state: 'editable' },
      ],
    });
  });

  it('adds lines: development on an editable version, staging/production only once approved', async () => {
    const where = { technicalName: 'hr_integration', version: '1.0.0' };
    const add = (customerCode: string) => addEnvironment(ctx, supplier, where, { customerCode });
    expect(await add('TE1002')).toEqual({ ok: true, value: { customerCode: 'TE1002', kind: 'development' } });
    expect(await refusal(add('TE1234'))).toBe('version_not_approved');
    value(await approveVersion(ctx, admin, 'hr_integration', '1.0.0'));
    expect(value(await add(' te1234 '))).toEqual({ customerCode: 'TE1234', kind: 'staging' });
    expect(value(await add('CF1234'))).toEqual({ customerCode: 'CF1234', kind: 'production' });
    expect(await refusal(add('TE1002'))).toBe('environment_exists');
    expect(await refusal(add('XF1234'))).toBe('invalid_customer_code');
    expect((await listConnectors(ctx, supplier))[0]?.versions[0]).toEqual({
      version: '1.0.0',
      state: 'approved',
    });
  });

  it('signs a development CSR at once with a certificate that verifies against the CA', async () => {
    await connectorWith('dev_only', ['TE1002'], false);
    const { outcome } = await upload('dev_only', 'TE1002');
    const result = value(outcome);
    expect(result.request.state).toBe('signed');
    expect(result.certificate?.serial).toMatch(/^[0-9a-f]{32}$/);
    const rows = await ctx.db
      .select()
      .from(certificates)
      .where(eq(certificates.serial, result.certificate!.serial));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.requestId).toBe(result.request.id);
    expect((await requestRow(result.request.id))?.state).toBe('signed');
    const pemPath = await tempFile('client.pem', rows[0]!.pem);
    const verified = await openssl(['verify', '-CAfile', join(CA_DIR, 'ca.pem'), pemPath]);
    expect(verified).toEqual({ code: 0, output: `${pemPath}: OK\n` });
  });

  it('staging: waits, a newer upload supersedes, approval signs once, renewal is automatic', async () => {
    await connectorWith('staging_flow', ['TE1234']);
    const first = value((await upload('staging_flow', 'TE1234', 'one')).outcome);
    expect(first).toEqual({ request: { id: first.request.id, state: 'awaiting_approval' } });
    const second = value((await upload('staging_flow', 'TE1234', 'two')).outcome);
    expect(second.request.state).toBe('awaiting_approval');
    expect((await requestRow(first.request.id))?.state).toBe('superseded');
    const waiting = await listRequests(ctx, 'awaiting_approval');
    expect(waiting.filter((r) => r.technicalName === 'staging_flow')).toEqual([
      expect.objectContaining({ id: second.request.id, customerCode: 'TE1234', version: '1.0.0' }),
    ]);
    expect(await refusal(approveRequest(ctx, alice, first.request.id))).toBe('not_awaiting_approval');

    const approved = value(await approveRequest(ctx, alice, second.request.id));
    expect(approved.alreadySigned).toBe(false);
    expect(approved.request).toEqual({ id: second.request.id, state: 'signed' });
    const consent = await ctx.db.select().from(consents).where(eq(consents.requestId, second.request.id));
    expect(consent).toMatchObject([{ approverLogin: 'alice', approverId: 42 }]);

    const again = value(await approveRequest(ctx, alice, second.request.id));
    expect(again.alreadySigned).toBe(true);
    expect(again.certificate?.serial).toBe(approved.certificate?.serial);

    const renewal = value((await upload('staging_flow', 'TE1234', 'renewal')).outcome);
    expect(renewal.request.state).toBe('signed');
    expect(renewal.certificate?.serial).not.toBe(approved.certificate?.serial);
    expect(await listRequests(ctx, 'awaiting_approval')).not.toContainEqual(
      expect.objectContaining({ technicalName: 'staging_flow' }),
    );
    const tab = value(
      await listEnvironments(ctx, supplier, { technicalName: 'staging_flow', version: '1.0.0' }),
    );
    // The certificate the renewal replaced is still valid: it is listed after the current one.
    expect(tab).toEqual([
      {
        customerCode: 'TE1234',
        kind: 'staging',
        ...renewal,
        certificates: [
          { ...renewal.certificate, current: true },
          { ...approved.certificate, current: false },
        ],
      },
    ]);
  });

  it('refuses a reused key, then a disabled one as compromised; disabling needs a reason', async () => {
    await connectorWith('key_rules', ['TE1002', 'TE5678']);
    const { made, outcome } = await upload('key_rules', 'TE1002');
    const serial = value(outcome).certificate!.serial;
    const sameKey = async (code: string) => {
      const csr = await makeCsrForKey(`key_rules-${code}-again`, made.keyPath);
      return uploadCsr(ctx, supplier, line('key_rules', code), csr);
    };
    const setEnabled = (raw: { enabled: boolean; reason?: string }) =>
      setCertificateEnabled(ctx, supplier, serial, raw);
    expect(await refusal(sameKey('TE5678'))).toBe('key_reused');
    expect(await refusal(sameKey('TE1002'))).toBe('key_reused');

    expect(await refusal(setEnabled({ enabled: false }))).toBe('reason_required');
    expect(await refusal(setEnabled({ enabled: false, reason: '  ' }))).toBe('reason_required');
    expect(value(await setEnabled({ enabled: false, reason: 'key leaked' })).enabled).toBe(false);
    expect(await refusal(sameKey('TE5678'))).toBe('key_compromised');

    expect(value(await setEnabled({ enabled: true })).enabled).toBe(true);
    const [row] = await ctx.db.select().from(certificates).where(eq(certificates.serial, serial));
    expect(row).toMatchObject({ enabled: true, disabledAt: null, disabledReason: null });
  });

  it('production: rejection with a reason, after which approval is refused', async () => {
    await connectorWith('prod_flow', ['CF1234']);
    const { id, state } = value((await upload('prod_flow', 'CF1234')).outcome).request;
    expect(state).toBe('awaiting_approval');
    expect(await refusal(rejectRequest(ctx, alice, id, '  '))).toBe('reason_required');
    const reason = 'we do not use this supplier';
    expect(value(await rejectRequest(ctx, alice, id, reason))).toEqual({
      request: { id, state: 'rejected' },
    });
    expect(await requestRow(id)).toMatchObject({
      state: 'rejected',
      decisionReason: reason,
      decidedBy: 'github:alice#42',
    });
    expect(await refusal(approveRequest(ctx, alice, id))).toBe('not_awaiting_approval');
    expect(await refusal(rejectRequest(ctx, alice, id, 'again'))).toBe('not_awaiting_approval');
    expect(await ctx.db.select().from(consents).where(eq(consents.requestId, id))).toEqual([]);
  });

  it('refuses an approval for a CSR other than the one shown (csr_changed)', async () => {
    await connectorWith('changed_csr', ['DF4321']);
    const { id } = value((await upload('changed_csr', 'DF4321')).outcome).request;
    const shown = (await requestRow(id))!.csrSha256!;
    expect(shown).toMatch(/^[0-9a-f]{64}$/);
    const other = shown.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(await refusal(approveRequest(ctx, alice, id, { csrSha256: other }))).toBe('csr_changed');
    expect((await requestRow(id))?.state).toBe('awaiting_approval');
    expect(value(await approveRequest(ctx, alice, id, { csrSha256: shown })).request.state).toBe('signed');
  });

  it("listEnvironments shows each line's latest request and current certificate", async () => {
    await connectorWith('tab_view', ['TE1002', 'TE2222', 'MF3333']);
    const dev = value((await upload('tab_view', 'TE1002')).outcome);
    const staging = value((await upload('tab_view', 'TE2222')).outcome);
    const wrongCn = (await makeCsr('tab_view-TE1002-x')).csr;
    const bad = uploadCsr(ctx, supplier, line('tab_view', 'MF3333'), wrongCn);
    expect(await refusal(bad)).toBe('cn_customer_code_mismatch');

    const tab = value(await listEnvironments(ctx, supplier, { technicalName: 'tab_view', version: '1.0.0' }));
    expect(tab).toEqual([
      {
        customerCode: 'TE1002',
        kind: 'development',
        request: dev.request,
        certificate: dev.certificate,
        certificates: [{ ...dev.certificate, current: true }],
      },
      { customerCode: 'TE2222', kind: 'staging', request: staging.request },
      {
        customerCode: 'MF3333',
        kind: 'production',
        request: {
          id: expect.any(String),
          state: 'invalid',
          errors: [{ code: 'cn_customer_code_mismatch', message: expect.any(String) }],
        },
      },
    ]);
    expect(tab[0]?.certificate?.enabled).toBe(true);
  });

  it('a refused upload after a waiting one: the listing still shows the request that waits', async () => {
    await connectorWith('still_waits', ['TE4444']);
    const waiting = value((await upload('still_waits', 'TE4444')).outcome);
    expect(waiting.request.state).toBe('awaiting_approval');
    const wrongCn = (await makeCsr('still_waits-TE1002-x')).csr;
    expect(await refusal(uploadCsr(ctx, supplier, line('still_waits', 'TE4444'), wrongCn))).toBe(
      'cn_customer_code_mismatch',
    );
    const tab = async () =>
      value(await listEnvironments(ctx, supplier, { technicalName: 'still_waits', version: '1.0.0' }))[0];
    expect(await tab()).toMatchObject({
      request: { state: 'invalid' },
      waiting: { id: waiting.request.id },
    });
    // A valid new CSR replaces the waiting one: nothing is listed as waiting behind it any more.
    const newer = value((await upload('still_waits', 'TE4444')).outcome);
    const after = await tab();
    expect(after?.request).toMatchObject({ id: newer.request.id, state: 'awaiting_approval' });
    expect(after?.waiting).toBeUndefined();
  });

  // The key of a waiting request is judged again at approval: certified on another line
  // meanwhile, the request becomes invalid with key_reused instead of failing on the database.
  it('approving a request whose key was certified elsewhere meanwhile answers key_reused', async () => {
    await connectorWith('late_reuse', ['TE1002', 'TE7777']);
    const { made, outcome } = await upload('late_reuse', 'TE7777');
    const waiting = value(outcome);
    const dev = await makeCsrForKey('late_reuse-TE1002-same', made.keyPath);
    value(await uploadCsr(ctx, supplier, line('late_reuse', 'TE1002'), dev));
    expect(await refusal(approveRequest(ctx, alice, waiting.request.id))).toBe('key_reused');
    const tab = value(
      await listEnvironments(ctx, supplier, { technicalName: 'late_reuse', version: '1.0.0' }),
    );
    expect(tab.find((l) => l.customerCode === 'TE7777')?.request).toMatchObject({
      id: waiting.request.id,
      state: 'invalid',
      errors: [expect.objectContaining({ code: 'key_reused' })],
    });
  });
});
