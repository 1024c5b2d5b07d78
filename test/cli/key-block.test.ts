import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsr } from '../../src/ca/parse-csr.ts';
import { runCli } from '../helpers/cli.ts';
import { csrPath, openssl, readCsr, tempDir } from '../helpers/fixtures.ts';
import { makeCsr, makeCsrForKey, writeTemp } from '../helpers/services.ts';
import { startWebService, type WebService } from '../helpers/web.ts';

const LINES = '/api/connectors/block_conn/versions/1.0/environments';
const CSR = `${LINES}/TE1002/csr`;
type Errors = { errors: { code: string; message: string }[] };

const spkiSha256 = (csr: string | Buffer) => {
  const parsed = parseCsr(csr);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.facts.publicKeySha256;
};

// `ons-certs key block` through the real command line, against the PostgreSQL database of a
// running service; the service refuses the key at the next upload.
describe('ons-certs key block, unblock and list (PostgreSQL, with the service running)', () => {
  let web: WebService;
  let token = '';
  let env: Record<string, string>;
  let sql: postgres.Sql;
  const cli = (...args: string[]) => runCli(['key', ...args], env);
  const upload = (csr: string) => web.api<Errors>(token, 'PUT', CSR, csr);
  const codes = (reply: { json: Errors }) => reply.json.errors?.map((e) => e.code) ?? [];
  const blockedRows = () => sql`select public_key_sha256, reason, blocked_by from blocked_keys`;

  beforeAll(async () => {
    web = await startWebService();
    env = { DATABASE_URL: web.databaseUrl, DATA_DIR: await tempDir() };
    sql = postgres(web.databaseUrl, { max: 1, onnotice: () => undefined });
    token = await web.addSupplier('Block Software B.V.');
    await web.api(token, 'POST', '/api/connectors', { technicalName: 'block_conn', name: 'Block' });
    await web.api(token, 'POST', '/api/connectors/block_conn/versions', { version: '1.0' });
    await web.api(token, 'POST', LINES, { customerCode: 'TE1002' });
  });
  afterAll(async () => {
    await sql?.end();
    await web?.close();
  });

  it('blocks the key of a CSR file: its next upload is 422 key_blocked, and the audit log says who and why', async () => {
    const made = await makeCsr('block_conn-TE1002-first');
    const sha = spkiSha256(made.csr);
    const blocked = await cli('block', made.csrPath, '--reason', 'sent to us by e-mail with its private key');
    expect(blocked.code, blocked.stderr).toBe(0);
    expect(blocked.stdout).toContain(`blocked key ${sha} (RSA 2048 bits, from the certificate request in`);

    const reply = await upload(made.csr);
    expect([reply.status, codes(reply)]).toEqual([422, ['key_blocked']]);
    expect(reply.json.errors[0]!.message).toContain("on Nedap support's list of blocked keys");
    expect(reply.json.errors[0]!.message).not.toContain('e-mail'); // the reason stays with support

    const [audit] =
      await sql`select actor, action, subject_type, subject_id, reason from audit_log where action = 'key.blocked'`;
    expect(audit).toEqual({
      actor: 'admin',
      action: 'key.blocked',
      subject_type: 'key',
      subject_id: sha,
      reason: 'sent to us by e-mail with its private key',
    });

    const again = await cli('block', '--spki-sha256', sha.toUpperCase(), '--reason', 'twice');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/was already blocked on .* by admin \("sent to us by e-mail/);
    expect(await sql`select 1 from audit_log where action = 'key.blocked'`).toHaveLength(1);
  });

  it('blocks by a certificate: the key of a signed certificate, warning that the certificate stays enabled', async () => {
    const made = await makeCsr('block_conn-TE1002-signed');
    const signed = await web.api<{ certificate: { serial: string } }>(token, 'PUT', CSR, made.csr);
    expect(signed.status).toBe(201);
    const pem = await web.api(token, 'GET', `${LINES}/TE1002/certificate.pem`);
    const certFile = await writeTemp('client.pem', pem.text);
    const blocked = await cli('block', certFile, '--reason', 'the laptop was stolen');
    expect(blocked.code, blocked.stderr).toBe(0);
    expect(blocked.stdout).toContain(
      `blocked key ${spkiSha256(made.csr)} (RSA 2048 bits, from the certificate in`,
    );
    expect(blocked.stderr).toContain(`1 enabled certificate has this key (${signed.json.certificate.serial}`);
    // A new CSR with the blocked key: key_blocked, which says more than key_reused.
    const again = await makeCsrForKey('block_conn-TE1002-again', made.keyPath);
    expect(codes(await upload(again))).toEqual(['key_blocked']);
  });

  it('blocks by a public key file, PEM and DER, and by --spki-sha256 with colons', async () => {
    const pemKey = await makeCsr('block_conn-TE1002-pem');
    const derKey = await makeCsr('block_conn-TE1002-der');
    const hexKey = await makeCsr('block_conn-TE1002-hex');
    const dir = await tempDir();
    const publicPem = join(dir, 'public.pem');
    const publicDer = join(dir, 'public.der');
    expect((await openssl(['pkey', '-in', pemKey.keyPath, '-pubout', '-out', publicPem])).code).toBe(0);
    expect(
      (await openssl(['pkey', '-in', derKey.keyPath, '-pubout', '-outform', 'DER', '-out', publicDer])).code,
    ).toBe(0);
    const colons = spkiSha256(hexKey.csr).match(/../g)!.join(':');
    for (const args of [[publicPem], [publicDer], ['--spki-sha256', colons]]) {
      const result = await cli('block', ...args, '--reason', 'test');
      expect(result.code, result.stderr).toBe(0);
    }
    for (const made of [pemKey, derKey, hexKey])
      expect(codes(await upload(made.csr))).toEqual(['key_blocked']);
  });

  it('refuses a private key file, PEM or DER, without reading it, and blocks nothing', async () => {
    const made = await makeCsr('block_conn-TE1002-private');
    const der = join(await tempDir(), 'key.der');
    expect((await openssl(['pkey', '-in', made.keyPath, '-outform', 'DER', '-out', der])).code).toBe(0);
    const pkcs1 = join(await tempDir(), 'key.pkcs1.der');
    expect(
      (await openssl(['rsa', '-in', made.keyPath, '-traditional', '-outform', 'DER', '-out', pkcs1])).code,
    ).toBe(0);
    const combined = await writeTemp('both.pem', `${made.csr}${await readFile(made.keyPath, 'utf8')}`);
    const before = await blockedRows();
    for (const file of [made.keyPath, der, pkcs1, combined]) {
      const result = await cli('block', file, '--reason', 'oops');
      expect(result.code, file).toBe(1);
      expect(result.stderr).toContain('private_key');
      expect(result.stderr).toContain('must not be handled');
      expect(result.stderr).not.toContain((await readFile(made.keyPath, 'utf8')).split('\n')[1]!);
    }
    expect(await blockedRows()).toEqual(before);
    expect(codes(await upload(made.csr))).toEqual([]);
  });

  it('tells key_blocked only to whom the CSR signature shows holds the key (no oracle)', async () => {
    const tampered = await readCsr('tampered-signature.csr');
    const sha = spkiSha256(tampered);
    expect((await cli('block', '--spki-sha256', sha, '--reason', 'test')).code).toBe(0);
    const reply = await upload(tampered.toString());
    expect(codes(reply)).toContain('signature_invalid');
    expect(codes(reply)).not.toContain('key_blocked');
  });

  it('lists the blocked keys and unblocks one, after which its CSR is accepted', async () => {
    const made = await makeCsr('block_conn-TE1002-unblock');
    const sha = spkiSha256(made.csr);
    expect((await cli('block', made.csrPath, '--reason', 'by mistake')).code).toBe(0);
    const listed = await cli('list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${sha}  \\S+Z  admin  by mistake$`, 'm'));
    const unblocked = await cli('unblock', '--spki-sha256', sha, '--reason', 'blocked the wrong key');
    expect([unblocked.code, unblocked.stdout.trim()]).toEqual([
      0,
      `unblocked key ${sha}: CSRs with it are judged as any other`,
    ]);
    expect((await sql`select reason from audit_log where action = 'key.unblocked'`)[0]).toEqual({
      reason: 'blocked the wrong key',
    });
    expect((await upload(made.csr)).status).toBe(201);
    expect((await cli('unblock', '--spki-sha256', sha, '--reason', 'again')).stderr).toContain('not_found');
  });

  it('answers wrong usage with exit code 2', async () => {
    const file = csrPath('valid-development.csr');
    for (const args of [
      ['block', file],
      ['block', '--reason', 'x'],
      ['block', file, '--spki-sha256', 'ab'.repeat(32), '--reason', 'x'],
      ['block', '--spki-sha256', 'xyz', '--reason', 'x'],
      ['forget'],
    ]) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('usage: ons-certs');
    }
    const garbage = await writeTemp('garbage.bin', 'not a key at all');
    expect((await cli('block', garbage, '--reason', 'x')).code).toBe(2);
  });
});
