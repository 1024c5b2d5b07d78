import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAndIssue } from '../../src/ca/sign-csr.ts';
import { CA_DIR, CSR_DIR, loadTestCa } from '../helpers/fixtures.ts';

let server: tls.Server;
let port: number;
const seenBy: string[] = [];

beforeAll(async () => {
  server = tls.createServer({
    key: await readFile(join(CA_DIR, 'server.key')),
    cert: await readFile(join(CA_DIR, 'server.pem')),
    ca: await readFile(join(CA_DIR, 'ca.pem')),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  });
  server.on('secureConnection', (socket) => {
    seenBy.push(String(socket.getPeerCertificate().subject?.CN));
    socket.end(`hello ${socket.getPeerCertificate().subject?.CN}\n`);
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Connects with a client certificate; resolves with what the server said, or the error. */
function connect(cert: string | Buffer, key: string | Buffer, maxVersion: tls.SecureVersion = 'TLSv1.3') {
  return new Promise<{ said?: string; error?: string; protocol?: string | null }>((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      cert,
      key,
      checkServerIdentity: () => undefined,
      rejectUnauthorized: false,
      maxVersion,
    });
    let said = '';
    let error: string | undefined;
    let protocol: string | null = null;
    socket.on('secureConnect', () => (protocol = socket.getProtocol()));
    socket.on('data', (chunk) => (said += chunk));
    socket.on('error', (e) => (error = e.message));
    socket.on('close', () => resolve(error === undefined ? { said, protocol } : { said, error }));
  });
}

describe('a TLS server that requires client certificates from our CA', () => {
  it('accepts a certificate we issued, over TLS 1.3 and TLS 1.2', async () => {
    const ca = await loadTestCa();
    const issued = checkAndIssue(
      await readFile(join(CSR_DIR, 'valid-development.csr')),
      { minRsaBits: 4096, connector: 'hr_integration', customerCode: 'TE1002' },
      ca,
      { now: new Date(), randomBytes },
    );
    if (!issued.ok) throw new Error(JSON.stringify(issued.violations));
    const key = await readFile(join(CSR_DIR, 'valid-development.key'));

    const tls13 = await connect(issued.certificate.pem, key);
    expect(tls13).toEqual({ said: 'hello hr_integration-TE1002-free_text\n', protocol: 'TLSv1.3' });
    const tls12 = await connect(issued.certificate.pem, key, 'TLSv1.2');
    expect(tls12).toEqual({ said: 'hello hr_integration-TE1002-free_text\n', protocol: 'TLSv1.2' });
  });

  it('refuses a certificate signed by another CA', async () => {
    const before = seenBy.length;
    const cert = await readFile(join(CA_DIR, 'other-client.pem'));
    const key = await readFile(join(CA_DIR, 'other-client.key'));
    const tls12 = await connect(cert, key, 'TLSv1.2');
    // Node's TLS server checks the chain itself and drops the connection mid-handshake.
    expect(tls12).toEqual({
      said: '',
      error: expect.stringMatching(/before secure TLS connection|unknown ca/),
    });
    // In TLS 1.3 the client's certificate is judged after its handshake ends: no greeting comes.
    const tls13 = await connect(cert, key);
    expect(tls13.said ?? '').toBe('');
    expect(seenBy.length).toBe(before);
  });
});
