import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/ca/issue-certificate.ts';
import { parseCsr } from '../../src/ca/parse-csr.ts';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import { newestCrlHead } from '../../src/db/repositories/crls.ts';
import { databaseCrlSource } from '../../src/gateway/crl-source.ts';
import { startGateway, type RunningGateway } from '../../src/gateway/gateway.ts';
import { createLogger } from '../../src/log.ts';
import { eventually } from '../helpers/github.ts';
import { CA_DIR, loadTestCa, openssl, tempDir } from '../helpers/fixtures.ts';
import {
  CA_PEM,
  curl,
  sClient,
  SERVER_CERT,
  SERVER_KEY,
  startCrlWorld,
  type Client,
  type CrlWorld,
} from '../helpers/gateway.ts';
import { makeCsr } from '../helpers/services.ts';

const REFRESH_MS = 500;

describe('the reference gateway over real TLS on loopback, with the service on PostgreSQL and Redis', () => {
  let world: CrlWorld;
  let reader: DatabaseHandle;
  let gateway: RunningGateway;
  let upstream: Server;
  let upstreamSaw: { url: string; headers: IncomingHttpHeaders }[] = [];
  let alice: Client;
  let bob: Client;
  const gatewayLog: string[] = [];
  /** The reasons the gateway logged for refused handshakes since `from`. */
  const refusals = (from: number) =>
    gatewayLog
      .slice(from)
      .map((line) => (JSON.parse(line) as { reason?: string }).reason)
      .filter(Boolean);

  beforeAll(async () => {
    world = await startCrlWorld();
    reader = await openDatabase({ url: world.databaseUrl });
    upstream = createServer((req, res) => {
      upstreamSaw.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"upstream":true}');
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    alice = await world.issue('alice');
    bob = await world.issue('bob');
    gateway = await startGateway({
      port: 0,
      cert: await readFile(SERVER_CERT),
      key: await readFile(SERVER_KEY),
      caPem: await readFile(CA_PEM, 'utf8'),
      crlSource: databaseCrlSource(reader.db),
      refreshMs: REFRESH_MS,
      upstream: new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/base/`),
      log: createLogger('info', { write: (line: string) => void gatewayLog.push(line) }),
    });
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await reader?.close();
    upstream?.close();
    await world?.close();
  });

  const crlNumber = async () => (await newestCrlHead(reader.db))?.crlNumber ?? 0;

  it('lets an enabled certificate in: GET /ping answers with its CN', async () => {
    const answer = await curl(gateway.port, '/ping', alice);
    expect(answer).toMatchObject({ code: 0, status: 200, body: `${alice.commonName}\n` });
  });

  it('refuses a certificate within one CRL refresh of disabling it through the API, and lets it in again once enabled', async () => {
    const before = await crlNumber();
    const logged = gatewayLog.length;
    const disabledAt = Date.now();
    expect(await world.setEnabled(alice.serial, false)).toBe(200);
    // The maintenance worker signs a new CRL (one job, seconds at most)...
    await eventually(async () => expect(await crlNumber()).toBeGreaterThan(before));
    const signedAt = Date.now();
    // ...and the gateway takes it within one refresh.
    let refusedAt = 0;
    await eventually(async () => {
      const answer = await curl(gateway.port, '/ping', alice);
      // Node ends a refused handshake without a TLS alert: curl sees no answer at all.
      expect(answer.status).toBe(0);
      expect(answer.code).not.toBe(0);
      refusedAt = Date.now();
    });
    // One refresh, plus room for curl's start on a busy machine.
    expect(refusedAt - signedAt).toBeLessThan(REFRESH_MS + 2500);
    expect(refusedAt - disabledAt).toBeLessThan(10_000);
    await eventually(() => expect(refusals(logged)).toContain('CERT_REVOKED'));
    // Another certificate of the same line is not affected.
    expect((await curl(gateway.port, '/ping', bob)).status).toBe(200);

    const disabledNumber = await crlNumber();
    expect(await world.setEnabled(alice.serial, true)).toBe(200);
    await eventually(async () => expect(await crlNumber()).toBeGreaterThan(disabledNumber));
    await eventually(async () => {
      expect(await curl(gateway.port, '/ping', alice)).toMatchObject({
        status: 200,
        body: `${alice.commonName}\n`,
      });
    });
    expect(gateway.crlNumber()).toBe(await crlNumber());
  });

  it('cuts a keep-alive connection that was opened before the certificate was disabled', async () => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: gateway.port,
      servername: 'localhost',
      ca: await readFile(CA_PEM),
      cert: bob.cert,
      key: bob.key,
    });
    await once(socket, 'secureConnect');
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    socket.on('error', () => undefined);
    socket.write('GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await eventually(() => expect(received).toMatch(/^HTTP\/1\.1 200/));
    const closed = once(socket, 'close');
    expect(await world.setEnabled(bob.serial, false)).toBe(200);
    await closed;
    expect((await curl(gateway.port, '/ping', bob)).status).toBe(0);
    expect(await world.setEnabled(bob.serial, true)).toBe(200);
    await eventually(async () => expect((await curl(gateway.port, '/ping', bob)).status).toBe(200));
  });

  it('refuses a certificate from another CA, an expired one and a client without a certificate', async () => {
    let logged = gatewayLog.length;
    const other = await curl(gateway.port, '/ping', {
      certPath: join(CA_DIR, 'other-client.pem'),
      keyPath: join(CA_DIR, 'other-client.key'),
    });
    expect(other.status).toBe(0);
    expect(other.code).not.toBe(0);
    await eventually(() => expect(refusals(logged)).toEqual(['UNABLE_TO_VERIFY_LEAF_SIGNATURE']));
    logged = gatewayLog.length;

    // Signed by our CA with its clock set two years back: its year of validity is over.
    const made = await makeCsr('hr_integration-TE1002-expired');
    const csr = parseCsr(made.csr);
    if (!csr.ok) throw new Error(csr.problem);
    const expired = issueCertificate(await loadTestCa(), csr, {
      now: new Date(Date.now() - 2 * 365 * 24 * 3600_000),
      randomBytes,
    });
    expect(expired.notAfter.getTime()).toBeLessThan(Date.now());
    const expiredPath = join(await tempDir(), 'expired.pem');
    await writeFile(expiredPath, expired.pem);
    const old = await curl(gateway.port, '/ping', { certPath: expiredPath, keyPath: made.keyPath });
    expect(old.status).toBe(0);
    expect(old.code).not.toBe(0);
    await eventually(() => expect(refusals(logged)).toEqual(['CERT_HAS_EXPIRED']));
    logged = gatewayLog.length;

    const none = await curl(gateway.port, '/ping');
    expect(none.status).toBe(0);
    expect(none.code).not.toBe(0);
    await eventually(() => expect(refusals(logged)).toEqual(['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE']));
  });

  it('speaks the published TLS profile: TLS 1.2+ with forward-secret AEAD suites only', async () => {
    const logged = gatewayLog.length;
    const client = ['-cert', alice.certPath, '-key', alice.keyPath];
    // Accepted: TLS 1.3, and TLS 1.2 with ECDHE or DHE and AES-GCM or ChaCha20-Poly1305.
    expect((await sClient(gateway.port, [...client, '-tls1_3'])).answered).toBe('200');
    for (const cipher of [
      'ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-RSA-CHACHA20-POLY1305',
      'DHE-RSA-AES256-GCM-SHA384',
    ]) {
      const answer = await sClient(gateway.port, [...client, '-tls1_2', '-cipher', cipher]);
      expect(answer.answered, cipher).toBe('200');
      expect(answer.output).toContain(`Cipher is ${cipher}`);
    }
    // Refused by the server: TLS 1.1 (the client allows it at security level 0), suites without
    // forward secrecy or with CBC, and TLS 1.3's CCM suite.
    const tls11 = await sClient(gateway.port, [...client, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
    expect(tls11.answered).toBeUndefined();
    expect(tls11.output).toMatch(/alert protocol version|unsupported protocol/);
    for (const cipher of ['AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA']) {
      const refused = await sClient(gateway.port, [...client, '-tls1_2', '-cipher', cipher]);
      expect(refused.answered, cipher).toBeUndefined();
      expect(refused.output, cipher).toMatch(/handshake failure/);
    }
    const ccm = await sClient(gateway.port, [
      ...client,
      '-tls1_3',
      '-ciphersuites',
      'TLS_AES_128_CCM_SHA256',
    ]);
    expect(ccm.answered).toBeUndefined();
    expect(ccm.output).toMatch(/handshake failure/);
    // ...and it is the gateway that said no, each time.
    await eventually(() =>
      expect(refusals(logged)).toEqual([
        'ERR_SSL_UNSUPPORTED_PROTOCOL',
        ...Array(4).fill('ERR_SSL_NO_SHARED_CIPHER'),
      ]),
    );
  });

  it('proxies other paths to --upstream with the caller identity, dropping identity headers the client sent', async () => {
    upstreamSaw = [];
    const answer = await curl(gateway.port, '/v1/clients?page=2', alice, [
      '-H',
      'x-client-cert-cn: someone-else',
    ]);
    expect(answer).toMatchObject({ status: 200, body: '{"upstream":true}' });
    expect(upstreamSaw).toHaveLength(1);
    expect(upstreamSaw[0]!.url).toBe('/base/v1/clients?page=2');
    expect(upstreamSaw[0]!.headers).toMatchObject({
      'x-client-cert-cn': alice.commonName,
      'x-client-cert-serial': alice.serial,
      'x-forwarded-proto': 'https',
    });
    expect(upstreamSaw[0]!.headers['x-client-cert-sha256']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('serves the same CRL at /crl.pem and /crl (DER) that the gateway uses', async () => {
    const pem = await fetch(`${world.service.url}/crl.pem`);
    expect(pem.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
    const text = await pem.text();
    expect(text).toMatch(/^-----BEGIN X509 CRL-----\n/);
    const der = await fetch(`${world.service.url}/crl`);
    expect(der.headers.get('content-type')).toBe('application/pkix-crl');
    const derPath = join(await tempDir(), 'crl.der');
    await writeFile(derPath, Buffer.from(await der.arrayBuffer()));
    const checked = await openssl([
      'crl',
      '-inform',
      'DER',
      '-in',
      derPath,
      '-noout',
      '-verify',
      '-crlnumber',
      '-CAfile',
      CA_PEM,
    ]);
    expect(checked.output).toContain('verify OK');
    expect(checked.output).toContain(
      `crlNumber=0x${gateway.crlNumber()!.toString(16).toUpperCase().padStart(2, '0')}`,
    );
    const again = await fetch(`${world.service.url}/crl.pem`, {
      headers: { 'if-none-match': pem.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
  });
});
