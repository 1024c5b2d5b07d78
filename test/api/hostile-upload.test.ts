import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../../src/ca/pem.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService, type RunningService } from '../../src/main.ts';
import { createPostgresDatabase, dropPostgresDatabase } from '../helpers/database.ts';
import { CA_DIR, csrPath, openssl, run, tempDir } from '../helpers/fixtures.ts';
import { httpCall } from '../helpers/http.ts';
import { fixtureKeys, OID, rawCsr, rawName, standardSubject, STRING } from '../helpers/raw-csr.ts';
import { makeCsr } from '../helpers/services.ts';

/**
 * Uploads as an attacker and a careless user send them, through the real HTTP API on
 * PostgreSQL: what is answered, what is stored in certificate_requests, and what the log holds.
 */

const ADMIN = 'admin-token-for-tests-0123456789';
const LINES = '/api/connectors/hr_integration/versions/1.0/environments';
const CSR = `${LINES}/TE1002/csr`;

type Errors = { errors?: { code: string; message: string }[] };
type Supplier = { id: string; token: string };

let base = '';
let service: RunningService;
let databaseUrl = '';
let sql: postgres.Sql;
let owner: Supplier;
let other: Supplier;
let keys: KeyObject[];
const logLines: string[] = [];

/** PUT the bytes with a content type, as curl --data-binary does. */
async function put(bytes: Buffer, type: string, path = CSR, token = owner.token) {
  const response = await fetch(`${base}${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body: bytes,
  });
  const text = await response.text();
  return { status: response.status, text, json: JSON.parse(text) as Errors };
}

/** PUT as a multipart form with the file in field `csr`, as the page and curl -F send it. */
async function putFile(bytes: Buffer, name = 'client.csr') {
  const form = new FormData();
  form.append('csr', new Blob([bytes]), name);
  return httpCall<Errors>(`${base}${CSR}`, 'PUT', owner.token, form);
}

const codes = (reply: { json: Errors }) => (reply.json.errors ?? []).map((e) => e.code);
const messages = (reply: { json: Errors }) => (reply.json.errors ?? []).map((e) => e.message).join(' | ');

/** The newest request row: what was kept of the last upload. */
async function lastStored() {
  const [row] = await sql<{ csr_pem: string; subject: string | null; state: string }[]>`
    select csr_pem, subject, state from certificate_requests order by created_at desc limit 1`;
  return row!;
}

/** Pieces of `bytes` as they could show up in a log line: hex, base64 and (JSON-escaped) text. */
function tracesOf(bytes: Buffer): string[] {
  const traces: string[] = [];
  for (let at = 0; at + 24 <= bytes.length; at += Math.max(24, Math.floor(bytes.length / 6))) {
    const piece = bytes.subarray(at, at + 24);
    traces.push(piece.toString('hex'), piece.toString('base64').slice(0, 24));
    const text = JSON.stringify(piece.toString('latin1')).slice(1, -1);
    if (text.length >= 24) traces.push(text.slice(0, 24));
  }
  return traces;
}

function expectNotLogged(bytes: Buffer) {
  const log = logLines.join('');
  for (const trace of tracesOf(bytes)) expect(log).not.toContain(trace);
}

beforeAll(async () => {
  databaseUrl = await createPostgresDatabase();
  sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  const config = loadConfig({
    ...{ PORT: '0', DATA_DIR: await tempDir(), DATABASE_URL: databaseUrl, ADMIN_TOKEN: ADMIN },
    ...{ CA_CERT_PATH: join(CA_DIR, 'ca.pem'), CA_KEY_PATH: join(CA_DIR, 'ca.key') },
    ...{ CSR_MIN_RSA_BITS: '2048', LOG_LEVEL: 'debug' },
  });
  service = await startService(
    config,
    createLogger('debug', { write: (line: string) => void logLines.push(line) }),
  );
  base = service.url;
  const supplier = async (name: string, email: string) =>
    (await httpCall<Supplier>(`${base}/api/admin/suppliers`, 'POST', ADMIN, { name, email })).json;
  owner = await supplier('Owner Software B.V.', 'owner@example.com');
  other = await supplier('Other Software B.V.', 'other@example.com');
  const steps: [Supplier, string, unknown][] = [
    [owner, '/api/connectors', { technicalName: 'hr_integration', name: 'HR integration' }],
    [owner, '/api/connectors/hr_integration/versions', { version: '1.0' }],
    [owner, LINES, { customerCode: 'TE1002' }],
    [other, '/api/connectors', { technicalName: 'other_conn', name: 'Other' }],
    [other, '/api/connectors/other_conn/versions', { version: '1.0' }],
    [other, '/api/connectors/other_conn/versions/1.0/environments', { customerCode: 'TE1002' }],
  ];
  for (const [who, path, body] of steps) {
    expect((await httpCall(`${base}${path}`, 'POST', who.token, body)).status).toBe(201);
  }
  keys = await fixtureKeys();
});

afterAll(async () => {
  await sql?.end();
  await service?.close();
  if (databaseUrl) await dropPostgresDatabase(databaseUrl);
});

const pemOf = (parts: Parameters<typeof rawCsr>[0]) =>
  Buffer.from(toPem('CERTIFICATE REQUEST', rawCsr(parts)));

async function derOf(pemPath: string): Promise<Buffer> {
  const { stdout } = await run('openssl', ['req', '-in', pemPath, '-outform', 'DER'], { encoding: 'buffer' });
  return stdout;
}

describe('a CSR in any of its usual forms is accepted as what it is (item 3)', () => {
  const forms: [string, (csr: string, der: Buffer) => Buffer, string, 'body' | 'file'][] = [
    ['DER as application/pkcs10', (_, der) => der, 'application/pkcs10', 'body'],
    [
      'base64 DER (an EST body) as application/pkcs10',
      (_, der) => Buffer.from(der.toString('base64')),
      'application/pkcs10',
      'body',
    ],
    ['UTF-8 with BOM as text/plain', (csr) => Buffer.from(`\ufeff${csr}`), 'text/plain', 'body'],
    ['PEM followed by a NUL as text/plain', (csr) => Buffer.from(`${csr}\0`), 'text/plain', 'body'],
    [
      "UTF-16 LE with BOM (PowerShell's >) as a multipart file",
      (csr) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csr.replace(/\n/g, '\r\n'), 'utf16le')]),
      '',
      'file',
    ],
    ['DER as a multipart file', (_, der) => der, '', 'file'],
  ];

  it.each(forms)('%s: 201, and the stored CSR is its canonical PEM', async (what, encode, type, how) => {
    const made = await makeCsr(`hr_integration-TE1002-${how}_${type.length}_${what.length}`);
    const bytes = encode(made.csr, await derOf(made.csrPath));
    const reply = how === 'file' ? await putFile(bytes) : await put(bytes, type);
    expect({ status: reply.status, errors: reply.json.errors }).toEqual({ status: 201, errors: undefined });
    const stored = await lastStored();
    // OpenSSL's PEM is the canonical one: 64-character lines, LF, nothing around it.
    expect(stored).toMatchObject({ state: 'signed', csr_pem: made.csr });
  });
});

describe('what is not a CSR is refused with a hint, and neither stored nor logged (items 3 and 4)', () => {
  it.each<[string, () => Promise<Buffer>, string, RegExp]>([
    [
      'random bytes',
      async () => randomBytes(3000),
      'application/octet-stream',
      /binary data that is not a CSR/,
    ],
    [
      'UTF-16 without a BOM',
      async () => Buffer.from(await readFile(csrPath('valid-development.csr'), 'utf8'), 'utf16le'),
      'text/plain',
      /UTF-16 LE text without a byte order mark/,
    ],
    [
      'a PEM private key',
      () => readFile(csrPath('valid-development.key')),
      'text/plain',
      /PRIVATE KEY.*treated as leaked/,
    ],
    [
      'a DER PKCS#1 private key as application/pkcs10',
      async () =>
        (
          await run(
            'openssl',
            ['rsa', '-in', csrPath('valid-development.key'), '-traditional', '-outform', 'DER'],
            {
              encoding: 'buffer',
            },
          )
        ).stdout,
      'application/pkcs10',
      /PRIVATE KEY.*treated as leaked/,
    ],
    [
      'a DER PKCS#8 private key',
      async () =>
        (
          await run('openssl', ['pkey', '-in', csrPath('valid-development.key'), '-outform', 'DER'], {
            encoding: 'buffer',
          })
        ).stdout,
      'application/octet-stream',
      /PRIVATE KEY.*treated as leaked/,
    ],
  ])('%s: 422 malformed_csr, csr_pem empty, nothing of it in the log', async (what, bytesOf, type, hint) => {
    const bytes = await bytesOf();
    const reply = await put(bytes, type);
    expect([reply.status, codes(reply)]).toEqual([422, ['malformed_csr']]);
    expect(messages(reply)).toMatch(hint);
    expect(await lastStored()).toMatchObject({ state: 'invalid', csr_pem: '', subject: null });
    expectNotLogged(bytes);
    for (const trace of tracesOf(bytes)) expect(reply.text).not.toContain(trace);
  });

  it('a CSR and its private key in one file (multipart): refused, only the CSR is kept', async () => {
    const made = await makeCsr('hr_integration-TE1002-with_key');
    const bytes = Buffer.from(`${made.csr}${made.key}`);
    const reply = await putFile(bytes);
    expect([reply.status, codes(reply)]).toEqual([422, ['malformed_csr']]);
    expect(messages(reply)).toMatch(/never send your private key/);
    const stored = await lastStored();
    expect(stored.csr_pem).toBe(made.csr);
    expect(stored.csr_pem).not.toMatch(/PRIVATE KEY/);
    expectNotLogged(Buffer.from(made.key));
  });
});

describe('subjects (items 5 and 6)', () => {
  it('a CSR with a NUL inside O: 422 subject_invalid_field, stored with the NUL escaped', async () => {
    const bytes = rawCsr({
      name: rawName(standardSubject({ O: [OID.O, STRING.utf8, 'Zorg\0B.V.'] }, 'hr_integration-TE1002-nul')),
      key: keys[0]!,
    });
    const reply = await put(bytes, 'application/pkcs10');
    expect([reply.status, codes(reply)]).toEqual([422, ['subject_invalid_field']]);
    expect(messages(reply)).toContain('O "Zorg<U+0000>B.V." holds U+0000');
    expect(await lastStored()).toMatchObject({
      state: 'invalid',
      csr_pem: toPem('CERTIFICATE REQUEST', bytes),
      subject: expect.stringContaining('O=Zorg\\00B.V., L=Enschede'),
    });
  });

  it('an O of "Zorg B.V., CN=other_conn-CF1234-prod" shows one CN in /api/admin/requests and the certificate', async () => {
    const dir = await tempDir();
    const made = await openssl([
      ...['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')],
      ...['-utf8', '-subj'],
      '/CN=hr_integration-TE1002-comma/OU=Zorg/O=Zorg B.V., CN=other_conn-CF1234-prod/L=Zwolle/ST=Overijssel/C=NL/emailAddress=a@b.nl',
    ]);
    expect(made.code).toBe(0);
    const reply = await put(await readFile(join(dir, 'c')), 'text/plain');
    expect(reply.status).toBe(201);
    const listed = await httpCall<{ subject: string }[]>(
      `${base}/api/admin/requests?state=signed`,
      'GET',
      ADMIN,
    );
    const subject = listed.json.map((r) => r.subject).find((s) => s.includes('comma'))!;
    expect(subject).toBe(
      'CN=hr_integration-TE1002-comma, OU=Zorg, O=Zorg B.V.\\, CN=other_conn-CF1234-prod, L=Zwolle, ST=Overijssel, C=NL, emailAddress=a@b.nl',
    );
    expect(subject.match(/(^|[^\\], )CN=/g)).toHaveLength(1);
    const [certificate] = await sql<{ subject: string }[]>`
      select subject from certificates where common_name = 'hr_integration-TE1002-comma'`;
    expect(certificate!.subject).toBe(subject);
  });

  it('ecdsa-with-SHA256 over an RSA key: 422 signature_invalid', async () => {
    const name = rawName(standardSubject({}, 'hr_integration-TE1002-lax'));
    // As PEM text: the way the old code read it too (it answered 201 and signed).
    const asPem = (der: Buffer) => Buffer.from(toPem('CERTIFICATE REQUEST', der));
    const ecdsa = await put(
      asPem(rawCsr({ name, key: keys[0]!, algorithm: OID.ecdsaWithSha256, parameters: null })),
      'text/plain',
    );
    expect([ecdsa.status, codes(ecdsa)]).toEqual([422, ['signature_invalid']]);
  });

  it('a CN whose OID has a non-minimal arc (06 04 55 80 04 03): 422 malformed_csr', async () => {
    const lax = rawName(
      standardSubject({ CN: [Buffer.from('55800403', 'hex'), STRING.utf8, 'hr_integration-TE1002-lax'] }),
    );
    const oid = await put(pemOf({ name: lax, key: keys[0]! }), 'text/plain');
    expect([oid.status, codes(oid)]).toEqual([422, ['malformed_csr']]);
    expect(messages(oid)).toMatch(/OID arc is not minimally encoded/);
  });
});

describe("another's public key with a garbage signature learns nothing (item 7)", () => {
  it('neither key_reused nor, once disabled, key_compromised: only signature_invalid', async () => {
    const made = await makeCsr('hr_integration-TE1002-victim');
    const issued = await httpCall<{ certificate: { serial: string } }>(
      `${base}${CSR}`,
      'PUT',
      owner.token,
      made.csr,
    );
    expect(issued.status).toBe(201);
    const victimKey = createPublicKey(made.key).export({ type: 'spki', format: 'der' });
    // As PEM text, the way the old code read it too (it answered key_reused, key_compromised).
    const forge = () =>
      pemOf({
        name: rawName(standardSubject({}, 'other_conn-TE1002-probe')),
        key: keys[0]!,
        spki: victimKey,
        signature: randomBytes(256),
      });
    const path = '/api/connectors/other_conn/versions/1.0/environments/TE1002/csr';
    const probe = await put(forge(), 'text/plain', path, other.token);
    expect([probe.status, codes(probe)]).toEqual([422, ['signature_invalid']]);

    const serial = issued.json.certificate.serial;
    const disabled = await httpCall(`${base}/api/certificates/${serial}`, 'PATCH', owner.token, {
      enabled: false,
      reason: 'test: compromised',
    });
    expect(disabled.status).toBe(200);
    const again = await put(forge(), 'text/plain', path, other.token);
    expect([again.status, codes(again)]).toEqual([422, ['signature_invalid']]);

    // The holder of the private key is told, as before.
    const { makeCsrForKey } = await import('../helpers/services.ts');
    const own = await makeCsrForKey('hr_integration-TE1002-victim_again', made.keyPath);
    const told = await httpCall<Errors>(`${base}${CSR}`, 'PUT', owner.token, own);
    expect([told.status, codes(told)]).toEqual([422, ['key_compromised']]);
  });
});

it('no upload above answered 5xx or logged at error level', () => {
  const errors = logLines
    .map((line) => JSON.parse(line) as { level: number; msg?: string })
    .filter((l) => l.level >= 50);
  expect(errors).toEqual([]);
});
