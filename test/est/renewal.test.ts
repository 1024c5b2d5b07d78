import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, certificateRequests, certificates, consents, mailMessages } from '../../src/db/schema.ts';
import { uploadCsr } from '../../src/services/upload-csr.ts';
import { issueCertificate } from '../../src/ca/issue-certificate.ts';
import { parseCsr } from '../../src/ca/parse-csr.ts';
import { eventually } from '../helpers/github.ts';
import { CA_DIR, loadTestCa, openssl, tempDir } from '../helpers/fixtures.ts';
import { CA_PEM, sClient } from '../helpers/gateway.ts';
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

  /** Every body sent: none of it may reach the log. */
  const sent: string[] = [];

  /** Sends a CSR (PEM, sent as base64 DER) as `holder`. */
  async function reenroll(holder: Holder | undefined, csrPem: string) {
    const body = await csrBase64(csrPem);
    sent.push(await readFile(body, 'utf8'));
    return estCurl(world.port, REENROLL, { client: holder, body });
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

  describe('bad requests: an answer with a code, never a 5xx, nothing logged of the body', () => {
    let ivan: Holder;
    beforeAll(async () => {
      ivan = await world.issue('TE1002', 'ivan');
    });
    const file = async (name: string, content: string | Buffer) => {
      const path = join(await tempDir(), name);
      await writeFile(path, content);
      return path;
    };
    const post = async (content: string | Buffer, contentType = 'application/pkcs10', extra: string[] = []) =>
      estCurl(world.port, REENROLL, {
        client: ivan,
        extra: [
          '-H',
          `Content-Type: ${contentType}`,
          '--data-binary',
          `@${await file('body', content)}`,
          ...extra,
        ],
      });

    it('refuses other media types, transfer and content encodings, empty and oversized bodies', async () => {
      const csr = await readFile(await csrBase64((await makeCsr(ivan.commonName)).csr), 'utf8');
      const before = await world.counts();
      const answers = {
        text: await post(csr, 'text/plain'),
        transfer: await post(csr, 'application/pkcs10', ['-H', 'Content-Transfer-Encoding: binary']),
        gzip: await post(csr, 'application/pkcs10', ['-H', 'Content-Encoding: gzip']),
        empty: await post(''),
        large: await post('A'.repeat(70 * 1024)),
      };
      expect(
        Object.fromEntries(Object.entries(answers).map(([k, a]) => [k, `${a.status} ${codesOf(a).join()}`])),
      ).toEqual({
        text: '415 unsupported_media_type',
        transfer: '415 unsupported_transfer_encoding',
        gzip: '415 unsupported_encoding',
        empty: '400 empty_body',
        large: '413 body_too_large',
      });
      expect(await world.counts()).toEqual(before);
    });

    it('a body that is no CSR, or a private key, is malformed_csr (422), kept as a refused upload without the bytes', async () => {
      const garbage = await post('this is not base64 at all: <>{}');
      expect({ status: garbage.status, codes: codesOf(garbage) }).toEqual({
        status: 422,
        codes: ['malformed_csr'],
      });
      const key = await readFile(ivan.keyPath, 'utf8');
      const leaked = await post(key);
      expect({ status: leaked.status, codes: codesOf(leaked) }).toEqual({
        status: 422,
        codes: ['malformed_csr'],
      });
      expect(leaked.body).toMatch(/private key/i);
      const keyBase64 = Buffer.from(key).toString('base64');
      const asBase64 = await post(keyBase64);
      expect(asBase64.status).toBe(422);
      const stored = JSON.stringify(await world.db.db.select().from(certificateRequests));
      const keyBody = key.split('\n')[5]!;
      expect(keyBody.length).toBeGreaterThan(40);
      expect(stored).not.toContain(keyBody);
      expect(world.log.text()).not.toContain(keyBody);
      expect(world.log.text()).not.toContain(keyBase64.slice(100, 160));
    });

    it('other paths are 404, other methods 405 with Allow', async () => {
      const get = await estCurl(world.port, REENROLL, { client: ivan });
      expect({ status: get.status, codes: codesOf(get), allow: get.headers['allow'] }).toEqual({
        status: 405,
        codes: ['method_not_allowed'],
        allow: 'POST',
      });
      const enroll = await estCurl(world.port, '/.well-known/est/simpleenroll', {
        client: ivan,
        extra: ['-X', 'POST'],
      });
      expect({ status: enroll.status, codes: codesOf(enroll) }).toEqual({
        status: 404,
        codes: ['not_found'],
      });
      const post = await estCurl(world.port, CACERTS, { extra: ['-X', 'POST'] });
      expect(post.status).toBe(405);
    });

    it("keeps to the gateway's TLS profile: TLS 1.1 and suites without forward secrecy or AEAD are refused", async () => {
      const client = ['-cert', ivan.certPath, '-key', ivan.keyPath];
      const tls11 = await sClient(world.port, [...client, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
      expect(tls11.answered).toBeUndefined();
      expect(tls11.output).toMatch(/alert protocol version|unsupported protocol/);
      for (const cipher of ['AES128-GCM-SHA256', 'ECDHE-RSA-AES256-SHA']) {
        const refused = await sClient(world.port, [...client, '-tls1_2', '-cipher', cipher]);
        expect(refused.answered, cipher).toBeUndefined();
        expect(refused.output, cipher).toMatch(/handshake failure/);
      }
      // What the profile allows gets an HTTP answer (GET /ping is no EST path: 404).
      const good = await sClient(world.port, [
        ...client,
        '-tls1_2',
        '-cipher',
        'ECDHE-RSA-AES256-GCM-SHA384',
      ]);
      expect(good.answered).toBe('404');
    });

    it('plain HTTP to the port gets no answer and harms nothing', async () => {
      const plain = await fetch(`http://localhost:${world.port}${CACERTS}`).then(
        (r) => r.status,
        () => 0,
      );
      expect(plain === 0 || plain === 400).toBe(true);
      expect((await estCurl(world.port, CACERTS)).status).toBe(200);
    });

    it('a certificate acts only on its own line, even when called with another', async () => {
      const [devCert] = await world.db.db
        .select()
        .from(certificates)
        .where(eq(certificates.serial, ivan.serial));
      const [supplier] = await world.db.db.query.suppliers.findMany();
      const made = await makeCsr(`${CONNECTOR}-CF1234-main`);
      const before = await world.counts();
      const outcome = await uploadCsr(
        world.ctx,
        { kind: 'certificate', serial: ivan.serial, supplierId: supplier!.id, lineId: devCert!.lineId },
        { technicalName: CONNECTOR, version: VERSION, customerCode: 'CF1234' },
        made.csr,
      );
      expect(outcome.ok ? [] : outcome.failures.map((f) => f.code)).toEqual(['not_found']);
      expect(await world.counts()).toEqual(before);
    });
  });

  it('the upload itself never makes a renewal wait for approval (neverWait): no_consent, nothing written', async () => {
    // DF1234 lost its consent above; a plain upload there would wait for the organisation.
    const [supplier] = await world.db.db.query.suppliers.findMany();
    const made = await makeCsr(`${CONNECTOR}-DF1234-main`);
    const before = await world.counts();
    const outcome = await uploadCsr(
      world.ctx,
      { kind: 'supplier', supplierId: supplier!.id },
      { technicalName: CONNECTOR, version: VERSION, customerCode: 'DF1234' },
      made.csr,
      {},
      { neverWait: true },
    );
    expect(outcome.ok ? [] : outcome.failures.map((f) => f.code)).toEqual(['no_consent']);
    expect(await world.counts()).toEqual(before);
  });

  it('logged each refusal with its code and serial, and none of the bodies sent', () => {
    const text = world.log.text();
    for (const body of sent) expect(text).not.toContain(body.replace(/\s/g, '').slice(200, 260));
    const refusals = world.log.entries().filter((e) => e['msg'] === 'EST: renewal refused');
    expect(refusals.map((e) => (e['codes'] as string[])[0])).toEqual(
      expect.arrayContaining(['certificate_disabled', 'certificate_expired', 'key_reused', 'no_consent']),
    );
    expect(refusals.find((e) => (e['codes'] as string[])[0] === 'certificate_disabled')?.['serial']).toMatch(
      /^[0-9a-f]+$/,
    );
    expect(world.log.entries().some((e) => Number(e['level']) >= 50)).toBe(false);
  });
});
