import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCrl, crlPem, readVerifiedCrl } from '../../src/ca/crl.ts';
import { certificates, crls } from '../../src/db/schema.ts';
import { createLogger } from '../../src/log.ts';
import { setCertificateEnabled } from '../../src/services/certificates.ts';
import { createConnector, createVersion } from '../../src/services/connectors.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { createCrlPublisher, type CrlPublisher, type StoredCrl } from '../../src/services/crl-publisher.ts';
import { addEnvironment } from '../../src/services/environments.ts';
import type { Outcome } from '../../src/services/outcome.ts';
import { createSupplier } from '../../src/services/suppliers.ts';
import { uploadCsr } from '../../src/services/upload-csr.ts';
import { ENGINES, freshDatabase, type TestDatabase } from '../helpers/database.ts';
import { CA_DIR, loadTestCa, openssl, tempDir } from '../helpers/fixtures.ts';
import { makeCsr, testContext } from '../helpers/services.ts';

const CA_PEM = join(CA_DIR, 'ca.pem');
const admin = { kind: 'admin' } as const;

function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.failures)}`);
  return outcome.value;
}

/** Writes a stored CRL as PEM into a fresh directory; returns its path. */
async function pemFile(crl: StoredCrl | Buffer): Promise<string> {
  const path = join(await tempDir(), 'crl.pem');
  await writeFile(path, crlPem(Buffer.isBuffer(crl) ? crl : crl.der));
  return path;
}

/** `openssl verify -crl_check` of a certificate against our CA and a CRL. */
async function verifyWithCrl(certPath: string, crl: StoredCrl) {
  return openssl([
    'verify',
    '-purpose',
    'sslclient',
    '-crl_check',
    '-CAfile',
    CA_PEM,
    '-CRLfile',
    await pemFile(crl),
    certPath,
  ]);
}

describe('buildCrl', () => {
  it('makes a v2 CRL that OpenSSL verifies against the CA, with every field the issue asks for', async () => {
    const ca = await loadTestCa();
    const thisUpdate = new Date('2031-03-04T05:06:07.890Z');
    const der = await buildCrl(
      [
        { serial: '5a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d', revokedAt: new Date('2031-03-01T10:00:00Z') },
        { serial: '0f00000000000000000000000000beef', revokedAt: new Date('2031-03-02T10:00:00Z') },
      ],
      ca,
      { number: 4242, thisUpdate, nextUpdate: new Date('2031-03-05T05:06:07Z') },
    );
    const path = await pemFile(der);
    const checked = await openssl(['crl', '-in', path, '-noout', '-text', '-verify', '-CAfile', CA_PEM]);
    expect(checked.code).toBe(0);
    expect(checked.output).toContain('verify OK');
    expect(checked.output).toMatch(/Version 2 \(0x1\)/);
    expect(checked.output).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(checked.output).toContain('Issuer: CN = ons-certs test CA, O = ons-certs tests');
    expect(checked.output).toContain('Last Update: Mar  4 05:06:07 2031 GMT');
    expect(checked.output).toContain('Next Update: Mar  5 05:06:07 2031 GMT');
    expect(checked.output).toMatch(/X509v3 CRL Number: \s*\n\s*4242/);
    const aki = ca.keyIdentifier.toString('hex').toUpperCase().match(/../g)!.join(':');
    expect(checked.output).toMatch(new RegExp(`X509v3 Authority Key Identifier: \\s*\\n\\s*(keyid:)?${aki}`));
    expect(checked.output).toContain('Serial Number: 5A0B1C2D3E4F5A6B7C8D9E0F1A2B3C4D');
    expect(checked.output).toContain('Revocation Date: Mar  1 10:00:00 2031 GMT');
    expect(checked.output).toContain('Serial Number: 0F00000000000000000000000000BEEF');
    expect(checked.output.match(/Certificate Hold/g)).toHaveLength(2);

    expect(crlPem(der)).toMatch(/^-----BEGIN X509 CRL-----\n[A-Za-z0-9+/=\n]+-----END X509 CRL-----\n$/);
    expect(await readVerifiedCrl(crlPem(der), ca.chainPem)).toEqual({
      number: 4242,
      thisUpdate: new Date('2031-03-04T05:06:07Z'),
      nextUpdate: new Date('2031-03-05T05:06:07Z'),
      serials: ['5a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d', 'f00000000000000000000000000beef'],
    });
  });

  it('is refused by readVerifiedCrl when another CA signed it', async () => {
    const ca = await loadTestCa();
    const other = { ...ca, privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey };
    const now = new Date();
    const der = await buildCrl([], other, { number: 1, thisUpdate: now, nextUpdate: now });
    await expect(readVerifiedCrl(der, ca.chainPem)).rejects.toThrow(/not signed by/);
  });
});

describe.each(ENGINES)('the CRL on %s', (engine) => {
  let testDb: TestDatabase;
  let ctx: ServiceContext;
  let publisher: CrlPublisher;
  let certPath: string;
  let serial: string;
  let clock = new Date();
  const failures: number[] = [];

  beforeAll(async () => {
    testDb = await freshDatabase(engine);
    ctx = await testContext(testDb.handle, { minRsaBits: 2048, now: () => clock });
    publisher = createCrlPublisher({
      db: ctx.db,
      ca: ctx.ca,
      log: ctx.log,
      now: () => clock,
      validityHours: 24,
      onFailure: () => failures.push(Date.now()),
    });
    const supplier = value(await createSupplier(ctx, admin, { name: 'Example', email: 'pki@example.com' }));
    const actor = { kind: 'supplier', supplierId: supplier.id } as const;
    value(await createConnector(ctx, actor, { technicalName: 'hr_integration', name: 'HR' }));
    value(await createVersion(ctx, actor, 'hr_integration', { version: '1.0' }));
    const line = { technicalName: 'hr_integration', version: '1.0', customerCode: 'TE1002' };
    value(await addEnvironment(ctx, actor, { technicalName: 'hr_integration', version: '1.0' }, line));
    const made = await makeCsr('hr_integration-TE1002-crl');
    const uploaded = value(await uploadCsr(ctx, actor, line, made.csr));
    serial = uploaded.certificate!.serial;
    const [row] = await ctx.db.select().from(crls);
    expect(row).toBeUndefined();
    certPath = join(await tempDir(), 'client.pem');
    const [cert] = await ctx.db.select().from(certificates);
    await writeFile(certPath, cert!.pem);
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  it('accepts the certificate while it is enabled, revokes it when disabled, accepts it again when enabled', async () => {
    const first = await publisher.publish();
    // Backdated a minute, like certificates, for gateways whose clock is a little behind.
    expect(first.thisUpdate.getTime()).toBeLessThanOrEqual(clock.getTime() - 59_000);
    const crlCheck = await openssl([
      'crl',
      '-in',
      await pemFile(first),
      '-noout',
      '-verify',
      '-CAfile',
      CA_PEM,
    ]);
    expect(crlCheck.output).toContain('verify OK');
    const accepted = await verifyWithCrl(certPath, first);
    expect(accepted.code, accepted.output).toBe(0);

    clock = new Date();
    value(await setCertificateEnabled(ctx, admin, serial, { enabled: false, reason: 'key leaked' }));
    const second = await publisher.publish();
    const refused = await verifyWithCrl(certPath, second);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('certificate revoked');
    expect(second.entries).toBe(1);
    const facts = await readVerifiedCrl(second.der, ctx.ca.chainPem);
    expect(facts.serials).toEqual([serial.replace(/^0+/, '')]);

    clock = new Date();
    value(await setCertificateEnabled(ctx, admin, serial, { enabled: true }));
    const third = await publisher.publish();
    const again = await verifyWithCrl(certPath, third);
    expect(again.code, again.output).toBe(0);
    expect(third.entries).toBe(0);

    expect(second.number).toBeGreaterThan(first.number);
    expect(third.number).toBeGreaterThan(second.number);
    for (const crl of [first, second, third]) {
      expect(crl.nextUpdate.getTime()).toBeGreaterThan(Date.now());
      const next = await openssl(['crl', '-in', await pemFile(crl), '-noout', '-nextupdate', '-crlnumber']);
      expect(next.output).toMatch(/nextUpdate=/);
      expect(next.output).toContain(`crlNumber=0x${crl.number.toString(16).toUpperCase().padStart(2, '0')}`);
    }
  });

  it('numbers concurrent CRLs one after the other, and the newest has the latest state', async () => {
    const before = (await publisher.current()).number;
    const made = await Promise.all(Array.from({ length: 8 }, () => publisher.publish()));
    const numbers = made.map((crl) => crl.number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 8 }, (_, i) => before + 1 + i));
  });

  it('serves the newest CRL while it is fresh, and signs a new one when it is missing or about to expire', async () => {
    const newest = await publisher.current();
    expect((await publisher.current()).number).toBe(newest.number);
    const saved = clock;
    try {
      // 20 of its 24 hours later: less than a quarter left.
      clock = new Date(newest.thisUpdate.getTime() + 20 * 3600_000);
      const renewed = await publisher.current();
      expect(renewed.number).toBe(newest.number + 1);
      expect(renewed.nextUpdate.getTime()).toBeGreaterThan(clock.getTime() + 23 * 3600_000);
    } finally {
      clock = saved;
    }
  });

  it('alarms when it cannot sign, serves a still-valid CRL meanwhile, and never an expired one', async () => {
    const lines: string[] = [];
    const log = createLogger('error', { write: (line: string) => void lines.push(line) });
    const newest = await publisher.current();
    const broken = createCrlPublisher({
      db: ctx.db,
      // An EC key cannot be imported as an RSA signing key: every signature fails.
      ca: { ...ctx.ca, privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey },
      log,
      now: () => clock,
      validityHours: 24,
      onFailure: () => failures.push(Date.now()),
    });
    const before = failures.length;
    await expect(broken.publish()).rejects.toThrow();
    expect(failures.length).toBe(before + 1);
    expect(lines.join('')).toMatch(/"level":50.*signing a new CRL failed/);

    const saved = clock;
    try {
      clock = new Date(newest.nextUpdate.getTime() - 3600_000);
      expect((await broken.current()).number).toBe(newest.number);
      expect(failures.length).toBe(before + 2);
      clock = new Date(newest.nextUpdate.getTime() + 1000);
      await expect(broken.current()).rejects.toThrow();
      expect(failures.length).toBe(before + 3);
    } finally {
      clock = saved;
    }
  });
});
