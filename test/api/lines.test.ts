import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { approveRequest } from '../../src/services/decide-request.ts';
import type { EnvironmentView } from '../../src/services/environments.ts';
import { attachTicket } from '../../src/services/tickets.ts';
import { uploadCsr } from '../../src/services/upload-csr.ts';
import { readCsr } from '../helpers/fixtures.ts';
import { makeCsr, testContext } from '../helpers/services.ts';
import { startWebService, WEB_ADMIN_TOKEN, type WebService } from '../helpers/web.ts';

const DAY = 24 * 3600 * 1000;
const LINES = '/api/connectors/lines_conn/versions/1.0/environments';
const APPROVER = { kind: 'approver' as const, login: 'alice-approver', githubId: 42 };

describe('the lines of a version over HTTP (PostgreSQL): every valid certificate, who disabled it, deleting a line', () => {
  let web: WebService;
  let handle: DatabaseHandle;
  let sql: postgres.Sql;
  let ctx: ServiceContext;
  let token = '';
  let otherToken = '';

  const list = async () => (await web.api<EnvironmentView[]>(token, 'GET', LINES)).json;
  const line = async (code: string) => (await list()).find((l) => l.customerCode === code);
  const add = (code: string, version = '1.0') =>
    web.api(token, 'POST', `/api/connectors/lines_conn/versions/${version}/environments`, {
      customerCode: code,
    });
  const upload = async (code: string, csr: string) =>
    web.api<{ request: { id: string; state: string }; certificate?: { serial: string } }>(
      token,
      'PUT',
      `${LINES}/${code}/csr`,
      csr,
    );
  /** A development certificate on TE1002 of `version`, signed `daysAgo` days ago (a real one, on a clock set back). */
  const signedDaysAgo = async (version: string, daysAgo: number) => {
    const then = { ...ctx, now: () => new Date(Date.now() - daysAgo * DAY) };
    const { csr } = await makeCsr(`lines_conn-TE1002-old${daysAgo}`);
    const where = { technicalName: 'lines_conn', version, customerCode: 'TE1002' };
    const signed = await uploadCsr(then, { kind: 'admin' }, where, csr);
    if (!signed.ok || !signed.value.certificate) throw new Error(JSON.stringify(signed));
    return signed.value.certificate.serial;
  };

  beforeAll(async () => {
    web = await startWebService();
    handle = await openDatabase({ url: web.databaseUrl });
    sql = postgres(web.databaseUrl, { max: 2, onnotice: () => undefined });
    ctx = await testContext(handle, { minRsaBits: 2048 });
    token = await web.addSupplier('Lines Software B.V.');
    otherToken = await web.addSupplier('Someone Else B.V.');
    await web.api(token, 'POST', '/api/connectors', { technicalName: 'lines_conn', name: 'Lines' });
    for (const version of ['1.0', '2.0', '3.0']) {
      await web.api(token, 'POST', '/api/connectors/lines_conn/versions', { version });
      await web.api(WEB_ADMIN_TOKEN, 'POST', `/api/admin/connectors/lines_conn/versions/${version}/approve`);
    }
  });

  afterAll(async () => {
    await sql?.end();
    await handle?.close();
    await web?.close();
  });

  it('lists development, staging, production, then by code (not in the order they were added)', async () => {
    for (const code of ['MF0001', 'CF1234', 'TE1234', 'TE1002', 'DF0001', 'TE0001']) {
      expect((await add(code)).status).toBe(201);
    }
    expect((await list()).map((l) => [l.customerCode, l.kind])).toEqual([
      ['TE1002', 'development'],
      ['TE0001', 'staging'],
      ['TE1234', 'staging'],
      ['CF1234', 'production'],
      ['DF0001', 'production'],
      ['MF0001', 'production'],
    ]);
    expect(await line('TE0001')).not.toHaveProperty('certificates');
  });

  it('after a renewal the replaced certificate is still listed, valid and enabled, beside the current one', async () => {
    const first = await upload('TE1234', (await makeCsr('lines_conn-TE1234-first')).csr);
    expect(first.json.request.state).toBe('awaiting_approval');
    const approved = await approveRequest(ctx, APPROVER, first.json.request.id);
    expect(approved.ok).toBe(true);
    const old = (await line('TE1234'))!.certificate!;

    const renewal = await upload('TE1234', (await makeCsr('lines_conn-TE1234-renewed')).csr);
    expect(renewal.json.request.state).toBe('signed');
    const renewed = (await line('TE1234'))!;
    expect(renewed.certificate?.serial).toBe(renewal.json.certificate!.serial);
    expect(renewed.certificates).toEqual([
      { ...renewed.certificate, current: true },
      { ...old, current: false },
    ]);
    expect(renewed.certificates![1]).toMatchObject({ enabled: true, serial: old.serial });
    expect(renewed.certificates![1]).not.toHaveProperty('disabled');
  });

  it('a disabled certificate says when, why and who by name (the supplier, Nedap support), in the listing and the PATCH answer', async () => {
    const [current, old] = (await line('TE1234'))!.certificates!;
    const bySupplier = await web.api<{ disabled: unknown }>(
      token,
      'PATCH',
      `/api/certificates/${old!.serial}`,
      {
        enabled: false,
        reason: 'the old key stayed on a test server',
      },
    );
    expect(bySupplier.status).toBe(200);
    const disabled = {
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      reason: 'the old key stayed on a test server',
      by: 'Lines Software B.V.',
    };
    expect(bySupplier.json.disabled).toEqual(disabled);
    const byAdmin = await web.api(WEB_ADMIN_TOKEN, 'PATCH', `/api/certificates/${current!.serial}`, {
      enabled: false,
      reason: 'checked by support',
    });
    expect(byAdmin.status).toBe(200);

    const listed = (await line('TE1234'))!;
    expect(
      listed.certificates!.map((c) => [c.current, c.enabled, c.disabled?.by, c.disabled?.reason]),
    ).toEqual([
      [true, false, 'Nedap support', 'checked by support'],
      [false, false, 'Lines Software B.V.', 'the old key stayed on a test server'],
    ]);
    expect(listed.certificate?.disabled).toEqual({
      ...disabled,
      reason: 'checked by support',
      by: 'Nedap support',
    });
    expect(JSON.stringify(listed)).not.toMatch(/supplier:/);

    // Enabled again: the record of the disabling goes from the listing (the audit log keeps it).
    await web.api(token, 'PATCH', `/api/certificates/${current!.serial}`, { enabled: true });
    expect((await line('TE1234'))!.certificate).not.toHaveProperty('disabled');
  });

  it('an expired certificate is not listed, except as the current one', async () => {
    await add('TE1002', '2.0');
    const expired = await signedDaysAgo('2.0', 400);
    const valid = await signedDaysAgo('2.0', 10);
    const listed = (await web.api<EnvironmentView[]>(token, 'GET', LINES.replace('1.0', '2.0'))).json[0]!;
    expect(listed.certificates!.map((c) => c.serial)).toEqual([valid]);
    expect(listed.certificates!.map((c) => c.serial)).not.toContain(expired);

    await add('TE1002', '3.0');
    const only = await signedDaysAgo('3.0', 380);
    const lone = (await web.api<EnvironmentView[]>(token, 'GET', LINES.replace('1.0', '3.0'))).json[0]!;
    expect(lone.certificates!).toEqual([{ ...lone.certificate, serial: only, current: true }]);
  });

  it('deletes a line that never had a CSR: 204, gone from the listing, audited, and the code can be added again', async () => {
    const reply = await web.api(token, 'DELETE', `${LINES}/mf0001`);
    expect([reply.status, reply.text]).toEqual([204, '']);
    expect((await list()).map((l) => l.customerCode)).not.toContain('MF0001');
    const [audit] = await sql`select actor, details from audit_log where action = 'line.deleted'`;
    expect(audit?.details).toEqual({
      technicalName: 'lines_conn',
      version: '1.0',
      customerCode: 'MF0001',
      kind: 'production',
      requests: [],
    });
    expect(audit?.actor).toMatch(/^supplier:/);
    expect((await add('MF0001')).status).toBe(201);
  });

  it('deletes a line with refused and waiting (no ticket yet) requests, and those requests with it', async () => {
    const refused = await upload('DF0001', (await readCsr('many-violations.csr')).toString('utf8'));
    expect(refused.status).toBe(422);
    const waiting = await upload('DF0001', (await makeCsr('lines_conn-DF0001-typo')).csr);
    expect(waiting.json.request.state).toBe('awaiting_approval');

    expect((await web.api(token, 'DELETE', `${LINES}/DF0001`)).status).toBe(204);
    const left =
      await sql`select count(*)::int as n from certificate_requests where id = ${waiting.json.request.id}`;
    expect(left[0]?.n).toBe(0);
    const [audit] =
      await sql`select details from audit_log where action = 'line.deleted' and details->>'customerCode' = 'DF0001'`;
    expect((audit?.details as { requests: unknown[] }).requests).toEqual([
      expect.objectContaining({ state: 'invalid' }),
      { id: waiting.json.request.id, state: 'awaiting_approval' },
    ]);
    // The history of the requests stays: their own audit entries are not touched.
    const history = await sql`select action from audit_log where request_id = ${waiting.json.request.id}`;
    expect(history.map((h) => h.action)).toEqual(['request.uploaded']);
  });

  it('keeps a line that had a certificate (409 line_has_certificates), or whose request an organisation is asked about (409 line_has_ticket)', async () => {
    const signed = await web.api<{ errors: { code: string; message: string }[] }>(
      token,
      'DELETE',
      `${LINES}/TE1234`,
    );
    expect(signed.status).toBe(409);
    expect(signed.json.errors).toEqual([
      { code: 'line_has_certificates', message: expect.stringContaining('TE1234 has had a certificate') },
    ]);

    const asked = await upload('CF1234', (await makeCsr('lines_conn-CF1234-asked')).csr);
    await attachTicket(ctx, asked.json.request.id, { owner: 'nedap-ons', repo: 'support', number: 77 });
    const ticketed = await web.api<{ errors: { code: string; message: string }[] }>(
      token,
      'DELETE',
      `${LINES}/CF1234`,
    );
    expect(ticketed.status).toBe(409);
    expect(ticketed.json.errors).toEqual([
      { code: 'line_has_ticket', message: expect.stringContaining('on ticket nedap-ons/support#77') },
    ]);
    expect((await list()).map((l) => l.customerCode)).toEqual(expect.arrayContaining(['TE1234', 'CF1234']));
  });

  it("another supplier's line, or one that does not exist: 404, nothing deleted", async () => {
    const other = await web.api<{ errors: { code: string }[] }>(otherToken, 'DELETE', `${LINES}/TE0001`);
    expect(other.status).toBe(404);
    expect(other.json.errors[0]?.code).toBe('not_found');
    expect((await web.api(token, 'DELETE', `${LINES}/TE9999`)).status).toBe(404);
    expect(
      (await web.api(token, 'DELETE', '/api/connectors/nope/versions/1.0/environments/TE0001')).status,
    ).toBe(404);
    expect((await list()).map((l) => l.customerCode)).toContain('TE0001');
  });

  it('an upload on a line deleted while it runs answers 404, not 500', async () => {
    expect((await add('TE0002')).status).toBe(201);
    const raced = (await makeCsr('lines_conn-TE0002-raced')).csr;
    // A delete that holds the line locked: the upload's insert waits for it, then finds the line gone.
    let uploading: ReturnType<typeof upload> | undefined;
    await sql.begin(async (tx) => {
      const [row] = await tx`select l.id from environment_lines l join versions v on v.id = l.version_id
        where l.customer_code = 'TE0002' and v.version = '1.0' for update`;
      uploading = upload('TE0002', raced);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const [waiting] = await tx`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`;
      expect(waiting?.n).toBe(1);
      await tx`delete from environment_lines where id = ${row!.id}`;
    });
    const reply = await uploading!;
    expect(reply.status).toBe(404);
    expect(await (await fetch(`${web.url}/healthz`)).status).toBe(200);
  });
});
