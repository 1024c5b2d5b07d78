import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, certificates, consents, mailMessages } from '../../src/db/schema.ts';
import { uploadCsr } from '../../src/services/upload-csr.ts';
import { issueCertificate } from '../../src/ca/issue-certificate.ts';
import { parseCsr } from '../../src/ca/parse-csr.ts';
import { eventually } from '../helpers/github.ts';
import { CA_DIR, loadTestCa, openssl, tempDir } from '../helpers/fixtures.ts';
import { CA_PEM } from '../helpers/gateway.ts';
import { makeCsr, makeCsrForKey, testContext } from '../helpers/services.ts';
import {
  CONNECTOR,
  csrBase64,
  estCurl,
  printCerts,
  startEstWorld,
  VERSION,
  type EstAnswer,
  type EstWorld,
  type Holder,
} from '../helpers/est.ts';

const REENROLL = '/.well-known/est/simplereenroll';
const CACERTS = '/.well-known/est/cacerts';

/** The refusal's JSON: `{"errors":[{code, message}]}`. */
const codesOf = (answer: EstAnswer) =>
  (JSON.parse(answer.body) as { errors: { code: string }[] }).errors.map((e) => e.code);

describe('EST re-enrolment over mTLS (RENEW_PORT), with curl and OpenSSL, on PostgreSQL and Redis', () => {
  let world: EstWorld;
  let alice: Holder;
  let production: Holder;

  beforeAll(async () => {
    world = await startEstWorld();
    await world.addLine('TE1002');
    await world.addLine('CF1234');
    alice = await world.issue('TE1002', 'alice');
    production = await world.issue('CF1234', 'main');
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  /** Sends a CSR for `commonName` with a new key (or the given CSR) as `holder`. */
  async function reenroll(holder: Holder | undefined, csrPem: string) {
    return estCurl(world.port, REENROLL, { client: holder, body: await csrBase64(csrPem) });
  }

  /** The certificate in an EST answer, read by OpenSSL, on disk. */
  async function answeredCertificate(answer: EstAnswer): Promise<{ path: string; pem: string }> {
    const printed = await printCerts(answer.body);
    expect(printed.code).toBe(0);
    const blocks =
      printed.output.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
    expect(blocks).toHaveLength(1);
    const path = join(await tempDir(), 'new.pem');
    await writeFile(path, blocks[0]!);
    return { path, pem: blocks[0]! };
  }

  it('GET cacerts answers the CA as a certs-only PKCS#7 in base64, without a client certificate', async () => {
    const answer = await estCurl(world.port, CACERTS);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/pkcs7-mime');
    expect(answer.headers['content-transfer-encoding']).toBe('base64');
    const printed = await printCerts(answer.body);
    expect(printed.code).toBe(0);
    const ca = new X509Certificate(await readFile(CA_PEM));
    expect(new X509Certificate(printed.output).fingerprint256).toBe(ca.fingerprint256);
  });

  it('renews a development certificate: a new certificate OpenSSL verifies, on the line, the old one still valid', async () => {
    const before = await world.counts();
    const made = await makeCsr(alice.commonName);
    const answer = await reenroll(alice, made.csr);
    expect(answer.body.slice(0, 400)).not.toContain('errors');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/pkcs7-mime; smime-type=certs-only');
    expect(answer.headers['content-transfer-encoding']).toBe('base64');
    const renewed = await answeredCertificate(answer);
    expect(await openssl(['verify', '-purpose', 'sslclient', '-CAfile', CA_PEM, renewed.path])).toEqual({
      code: 0,
      output: `${renewed.path}: OK\n`,
    });
    const cert = new X509Certificate(renewed.pem);
    const old = new X509Certificate(await readFile(alice.certPath));
    expect(cert.subject).toBe(old.subject);
    expect(cert.serialNumber).not.toBe(old.serialNumber);
    // The key is the new CSR's.
    const csrKey = parseCsr(made.csr);
    expect(csrKey.ok && cert.publicKey.export({ type: 'spki', format: 'der' }).equals(csrKey.spkiDer)).toBe(
      true,
    );

    const serial = cert.serialNumber.toLowerCase();
    const line = (await world.environments()).find((e) => e.customerCode === 'TE1002');
    expect(line?.certificate).toMatchObject({ serial, enabled: true });
    expect(await world.counts()).toMatchObject({
      certificates: before.certificates + 1,
      requests: before.requests + 1,
    });
    // The old certificate still works until it expires.
    expect((await openssl(['verify', '-CAfile', CA_PEM, alice.certPath])).code).toBe(0);
    const [oldRow] = await world.db.db
      .select()
      .from(certificates)
      .where(eq(certificates.serial, alice.serial));
    expect(oldRow?.enabled).toBe(true);
    // Audited as the certificate's holder.
    const audit = await world.db.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.actor, `certificate:${alice.serial}`));
    expect(audit.map((a) => a.action).sort()).toEqual(['certificate.issued', 'request.uploaded']);
    expect(audit.find((a) => a.action === 'certificate.issued')?.subjectId).toBe(serial);
  });

  it('answers a retry of the same CSR (the answer was lost) with the same certificate, also two at once', async () => {
    const carol = await world.issue('TE1002', 'carol');
    const made = await makeCsr(carol.commonName);
    const first = await reenroll(carol, made.csr);
    expect(first.status).toBe(200);
    const serial = new X509Certificate((await answeredCertificate(first)).pem).serialNumber;
    const afterFirst = await world.counts();
    const again = await reenroll(carol, made.csr);
    expect(again.status).toBe(200);
    expect(new X509Certificate((await answeredCertificate(again)).pem).serialNumber).toBe(serial);
    expect(await world.counts()).toEqual(afterFirst);

    // Two requests with one new CSR at the same moment: one certificate, both told it.
    const dave = await world.issue('TE1002', 'dave');
    const fresh = await makeCsr(dave.commonName);
    const before = await world.counts();
    const both = await Promise.all([reenroll(dave, fresh.csr), reenroll(dave, fresh.csr)]);
    expect(both.map((a) => a.status)).toEqual([200, 200]);
    const serials = await Promise.all(
      both.map(async (a) => new X509Certificate((await answeredCertificate(a)).pem).serialNumber),
    );
    expect(serials[0]).toBe(serials[1]);
    expect((await world.counts()).certificates).toBe(before.certificates + 1);
  });

  it('renews a production line approved on a ticket, on its consent, without asking anyone; the supplier is mailed', async () => {
    const before = await world.counts();
    const answer = await reenroll(production, (await makeCsr(production.commonName)).csr);
    expect(answer.status).toBe(200);
    const renewed = await answeredCertificate(answer);
    expect((await openssl(['verify', '-CAfile', CA_PEM, renewed.path])).code).toBe(0);
    const serial = new X509Certificate(renewed.pem).serialNumber.toLowerCase();
    const line = (await world.environments()).find((e) => e.customerCode === 'CF1234');
    expect(line).toMatchObject({ kind: 'production', request: { state: 'signed' }, certificate: { serial } });
    expect(line?.waiting).toBeUndefined();
    expect((await world.counts()).certificates).toBe(before.certificates + 1);
    const [row] = await world.db.db.select().from(certificates).where(eq(certificates.serial, serial));
    await eventually(async () => {
      const mails = await world.db.db
        .select()
        .from(mailMessages)
        .where(and(eq(mailMessages.certificateId, row!.id), eq(mailMessages.kind, 'certificate_issued')));
      expect(mails).toHaveLength(1);
    });
    expect((await openssl(['verify', '-CAfile', CA_PEM, production.certPath])).code).toBe(0);
  });

  describe('refusals: a status, a code, and nothing written', () => {
    /** Sends `csrPem` as `holder`, expects status and code, and that no row was written. */
    async function refused(
      holder: Holder | undefined,
      csrPem: string,
      status: number,
      code: string,
      written: 'nothing' | 'refused request' = 'nothing',
    ) {
      const before = await world.counts();
      const answer = await reenroll(holder, csrPem);
      expect({ status: answer.status, codes: codesOf(answer) }).toEqual({ status, codes: [code] });
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      const after = await world.counts();
      if (written === 'nothing') expect(after).toEqual(before);
      else expect(after).toMatchObject({ certificates: before.certificates, requests: before.requests + 1 });
      return JSON.parse(answer.body) as { errors: { code: string; message: string }[] };
    }

    it('no client certificate: 401 client_certificate_required', async () => {
      await refused(undefined, (await makeCsr(alice.commonName)).csr, 401, 'client_certificate_required');
    });

    it('a certificate of another CA, and one our CA signed that is not in our records: 401 certificate_unknown', async () => {
      const other = { certPath: join(CA_DIR, 'other-client.pem'), keyPath: join(CA_DIR, 'other-client.key') };
      const csr = (await makeCsr(`${CONNECTOR}-TE1002-other_ca`)).csr;
      await refused({ ...other, serial: '', commonName: '' }, csr, 401, 'certificate_unknown');

      const made = await makeCsr(`${CONNECTOR}-TE1002-unrecorded`);
      const parsed = parseCsr(made.csr);
      if (!parsed.ok) throw new Error(parsed.problem);
      const stray = issueCertificate(await loadTestCa(), parsed, {
        now: new Date(),
        randomBytes: world.ctx.randomBytes,
      });
      const certPath = join(await tempDir(), 'stray.pem');
      await writeFile(certPath, stray.pem);
      const renewal = (await makeCsr(`${CONNECTOR}-TE1002-unrecorded`)).csr;
      await refused(
        { certPath, keyPath: made.keyPath, serial: '', commonName: '' },
        renewal,
        401,
        'certificate_unknown',
      );
    });

    it('a disabled certificate: 403 certificate_disabled', async () => {
      const frank = await world.issue('TE1002', 'frank');
      expect(await world.setEnabled(frank.serial, false)).toBe(200);
      const body = await refused(frank, (await makeCsr(frank.commonName)).csr, 403, 'certificate_disabled');
      expect(body.errors[0]?.message).toContain('dashboard');
    });

    it('an expired certificate (issued by the CA code on a clock a year and a day back): 403 certificate_expired', async () => {
      const past = new Date(Date.now() - 366 * 24 * 3600_000);
      const back = await testContext(world.db, { now: () => past, minRsaBits: 2048 });
      const [supplier] = await world.db.db.query.suppliers.findMany();
      const made = await makeCsr(`${CONNECTOR}-TE1002-old`);
      const uploaded = await uploadCsr(
        back,
        { kind: 'supplier', supplierId: supplier!.id },
        { technicalName: CONNECTOR, version: VERSION, customerCode: 'TE1002' },
        made.csr,
      );
      if (!uploaded.ok) throw new Error(JSON.stringify(uploaded.failures));
      const [row] = await world.db.db
        .select()
        .from(certificates)
        .where(eq(certificates.serial, uploaded.value.certificate!.serial));
      expect(row!.notAfter.getTime()).toBeLessThan(Date.now());
      const certPath = join(await tempDir(), 'expired.pem');
      await writeFile(certPath, row!.pem);
      // OpenSSL itself calls it expired; the handshake still goes through, so the client hears why.
      expect((await openssl(['verify', '-CAfile', CA_PEM, certPath])).output).toContain(
        'certificate has expired',
      );
      const holder = { certPath, keyPath: made.keyPath, serial: row!.serial, commonName: row!.commonName };
      const body = await refused(holder, (await makeCsr(row!.commonName)).csr, 403, 'certificate_expired');
      expect(body.errors[0]?.message).toContain(row!.notAfter.toISOString());
    });

    it("a CSR with the current certificate's key: 422 key_reused (kept as a refused upload, as on the dashboard)", async () => {
      const grace = await world.issue('TE1002', 'grace');
      await refused(
        grace,
        await makeCsrForKey(grace.commonName, grace.keyPath),
        422,
        'key_reused',
        'refused request',
      );
      const line = (await world.environments()).find((e) => e.customerCode === 'TE1002');
      expect(line?.request).toMatchObject({ state: 'invalid', errors: [{ code: 'key_reused' }] });
      expect(line?.certificate?.serial).toBe(grace.serial);
    });

    it('a CSR with another subject: 422 subject_mismatch, naming both', async () => {
      const heidi = await world.issue('TE1002', 'heidi');
      const body = await refused(
        heidi,
        (await makeCsr(`${CONNECTOR}-TE1002-mallory`)).csr,
        422,
        'subject_mismatch',
      );
      expect(body.errors[0]?.message).toContain(`CN=${CONNECTOR}-TE1002-mallory`);
      expect(body.errors[0]?.message).toContain(`CN=${heidi.commonName}`);
    });

    it('a certificate already renewed, with another new CSR: 403 not_current', async () => {
      const body = await refused(alice, (await makeCsr(alice.commonName)).csr, 403, 'not_current');
      expect(body.errors[0]?.message).toMatch(/serial [0-9a-f]+/);
    });

    it('a production line whose consent is gone: 403 no_consent, and no request waits for approval', async () => {
      await world.addLine('DF1234');
      const holder = await world.issue('DF1234', 'main');
      const [cert] = await world.db.db
        .select()
        .from(certificates)
        .where(eq(certificates.serial, holder.serial));
      // Consent cannot end in today's model; the row is removed the way a withdrawal would.
      await world.db.db.delete(consents).where(eq(consents.lineId, cert!.lineId));
      const body = await refused(holder, (await makeCsr(holder.commonName)).csr, 403, 'no_consent');
      expect(body.errors[0]?.message).toContain('never asks anyone');
      const line = (await world.environments()).find((e) => e.customerCode === 'DF1234');
      expect(line?.request?.state).toBe('signed');
    });
  });
});
