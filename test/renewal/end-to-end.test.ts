import { spawn } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificates, consents } from '../../src/db/schema.ts';
import { approveRequest } from '../../src/services/decide-request.ts';
import { uploadCsr } from '../../src/services/upload-csr.ts';
import { renewOnce } from '../../src/renewal/renew-once.ts';
import { runCli } from '../helpers/cli.ts';
import { CONNECTOR, startEstWorld, VERSION, type EstWorld } from '../helpers/est.ts';
import { openssl, ROOT, tempDir } from '../helpers/fixtures.ts';
import { CA_PEM_PATH, snapshot, type ClientFiles } from '../helpers/renewal.ts';
import { makeCsr, testContext } from '../helpers/services.ts';

const DAY = 86_400_000;
let world: EstWorld;
let url: string;

beforeAll(async () => {
  world = await startEstWorld();
  await world.addLine('TE1002');
  await world.addLine('CF1234');
  url = `https://localhost:${world.port}`;
});
afterAll(() => world?.close());

/**
 * A certificate issued `daysAgo` (the service's own upload, on a clock that far back; on
 * production approved by the organisation first), written as client.pem/client.key the way a
 * connector keeps them.
 */
async function holder(
  customerCode: string,
  identification: string,
  daysAgo: number,
): Promise<ClientFiles & { serial: string }> {
  const back = await testContext(world.db, {
    now: () => new Date(Date.now() - daysAgo * DAY),
    minRsaBits: 2048,
  });
  const [supplier] = await world.db.db.query.suppliers.findMany();
  const made = await makeCsr(`${CONNECTOR}-${customerCode}-${identification}`);
  const line = { technicalName: CONNECTOR, version: VERSION, customerCode };
  const uploaded = await uploadCsr(back, { kind: 'supplier', supplierId: supplier!.id }, line, made.csr);
  if (!uploaded.ok) throw new Error(JSON.stringify(uploaded.failures));
  let serial = uploaded.value.certificate?.serial;
  if (!serial) {
    const approved = await approveRequest(
      back,
      { kind: 'approver', login: 'alice', githubId: 42 },
      uploaded.value.request!.id,
    );
    if (!approved.ok) throw new Error(JSON.stringify(approved.failures));
    serial = approved.value.certificate!.serial;
  }
  const [row] = await world.db.db.select().from(certificates).where(eq(certificates.serial, serial));
  const dir = await tempDir('ons-certs-connector-');
  const files = { dir, cert: join(dir, 'client.pem'), key: join(dir, 'client.key'), serial };
  await writeFile(files.cert, row!.pem);
  await writeFile(files.key, made.key, { mode: 0o600 });
  await chmod(files.key, 0o600);
  return files;
}

const renew = (files: ClientFiles, ...extra: string[]) =>
  runCli(
    ['renew', '--cert', files.cert, '--key', files.key, '--url', url, '--ca', CA_PEM_PATH, ...extra],
    {},
  );

const lineOf = async (customerCode: string) =>
  (await world.environments()).find((e) => e.customerCode === customerCode)!;
const verify = async (path: string) => (await openssl(['verify', '-CAfile', CA_PEM_PATH, path])).output;

describe('ons-certs renew against the service (EST over mTLS)', () => {
  it.each([
    ['development', 'TE1002'],
    ['production (approved first)', 'CF1234'],
  ])(
    '%s: due by the default (a third of the lifetime), a new certificate on the line; a second run does nothing',
    async (_, code) => {
      const files = await holder(code, 'main', 300); // 65 days left of 365: due (the default is ~122)
      const old = await readFile(files.cert, 'utf8');
      const result = await renew(files);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const renewed = new X509Certificate(await readFile(files.cert));
      const serial = renewed.serialNumber.toLowerCase();
      expect(result.stdout).toContain(`client.pem: renewed; serial ${serial}`);

      // On the line, in the JSON listing the dashboard and its tab read.
      const line = await lineOf(code);
      expect(line.certificate).toMatchObject({
        serial,
        enabled: true,
        notAfter: new Date(renewed.validTo).toISOString(),
      });
      expect(line.certificate!.fingerprintSha256).toBe(
        renewed.fingerprint256.replaceAll(':', '').toLowerCase(),
      );
      expect(line.certificates?.map((c) => [c.serial, c.current])).toEqual([
        [serial, true],
        [files.serial, false],
      ]);
      // On the tab: both, the new one current, each with its own switch.
      const tab = await world.tabPage();
      expect(tab).toContain(serial);
      expect(tab).toContain(files.serial);
      expect(await verify(files.cert)).toContain(': OK');
      // The old one still valid: OpenSSL accepts it and it is neither disabled nor expired.
      expect(await readFile(`${files.cert}.previous`, 'utf8')).toBe(old);
      expect(await verify(`${files.cert}.previous`)).toContain(': OK');
      const [oldRow] = await world.db.db
        .select()
        .from(certificates)
        .where(eq(certificates.serial, files.serial));
      expect(oldRow).toMatchObject({ enabled: true });
      expect(new X509Certificate(old).subject).toBe(renewed.subject);

      const before = await snapshot(files.dir);
      const counts = await world.counts();
      const second = await renew(files);
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/not due for renewal; it expires on .* \(in 36[45] days\)/);
      expect(await snapshot(files.dir)).toStrictEqual(before);
      expect(await world.counts()).toStrictEqual(counts);
    },
  );

  it.each<[string, () => Promise<ClientFiles>, RegExp]>([
    [
      'a disabled certificate',
      async () => {
        const files = await holder('TE1002', 'disabled', 0);
        expect(await world.setEnabled(files.serial, false)).toBe(200);
        return files;
      },
      /certificate_disabled: the certificate was disabled \(leaked\?\): upload a new CSR on the dashboard/,
    ],
    [
      'an expired certificate',
      () => holder('TE1002', 'expired', 366),
      /certificate_expired: .*impossible once it has: upload a new CSR/,
    ],
    [
      'a line whose consent was withdrawn',
      async () => {
        const files = await holder('CF1234', 'withdrawn', 0);
        const [row] = await world.db.db
          .select()
          .from(certificates)
          .where(eq(certificates.serial, files.serial));
        // Consent cannot end in today's model; the row goes the way a withdrawal would (as the server's tests do).
        await world.db.db.delete(consents).where(eq(consents.lineId, row!.lineId));
        return files;
      },
      /no_consent: the organisation's consent for this line is no longer in force/,
    ],
  ])('%s is refused, with what to do, and nothing is written', async (_, make, message) => {
    const files = await make();
    const before = await snapshot(files.dir);
    const counts = await world.counts();
    const result = await renew(files, '--before', '400d', '--exec', `touch '${join(files.dir, 'ran')}'`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/renewal of .*client\.pem failed, nothing was written: /);
    expect(result.stderr).toMatch(message);
    expect(await snapshot(files.dir)).toStrictEqual(before);
    expect((await world.counts()).certificates).toBe(counts.certificates);
  });

  it('a reused key (the client made to send its current key, passed in) is refused: key_reused, nothing written', async () => {
    const files = await holder('TE1002', 'reused', 0);
    const before = await snapshot(files.dir);
    const counts = await world.counts();
    const currentKey = createPrivateKey(await readFile(files.key));
    const outcome = await renewOnce(
      { paths: files, url: new URL(url), caPem: await readFile(CA_PEM_PATH, 'utf8'), beforeMs: 400 * DAY },
      { now: () => new Date(), jitter: () => 0, newKey: async () => currentKey, timeoutMs: 30_000 },
    );
    expect(outcome).toMatchObject({ kind: 'failed', failure: { code: 'key_reused', status: 422 } });
    expect(await snapshot(files.dir)).toStrictEqual(before);
    expect((await world.counts()).certificates).toBe(counts.certificates);
  });

  it('--daemon: SIGHUP renews a certificate that is not due, SIGTERM stops it', async () => {
    const files = await holder('TE1002', 'daemon', 0);
    const child = spawn(
      process.execPath,
      [
        'bin/ons-certs.js',
        'renew',
        '--cert',
        files.cert,
        '--key',
        files.key,
        '--url',
        url,
        '--ca',
        CA_PEM_PATH,
        '--daemon',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 300 && !pattern.test(stdout); i++) await new Promise((r) => setTimeout(r, 100));
      expect(stdout).toMatch(pattern);
    };
    try {
      await waitFor(/not due for renewal[\s\S]*next check in 1 h/);
      child.kill('SIGHUP');
      await waitFor(/client\.pem: renewed; serial ([0-9a-f]+)[\s\S]*next check/);
      const serial = new X509Certificate(await readFile(files.cert)).serialNumber.toLowerCase();
      expect((await lineOf('TE1002')).certificate?.serial).toBe(serial);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
