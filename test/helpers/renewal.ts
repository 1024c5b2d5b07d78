import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { issueCertificate } from '../../src/ca/issue-certificate.ts';
import { parseCsr, type ReadCsr } from '../../src/ca/parse-csr.ts';
import { CA_DIR, loadTestCa, openssl, tempDir } from './fixtures.ts';
import { makeCsr } from './services.ts';

export const CA_PEM_PATH = join(CA_DIR, 'ca.pem');
export const SERVER_CERT_PATH = join(CA_DIR, 'server.pem');
export const SERVER_KEY_PATH = join(CA_DIR, 'server.key');

/** A client pair issued by the test CA through src/ca, written as client.pem / client.key (0600). */
export interface ClientFiles {
  dir: string;
  cert: string;
  key: string;
}

/** Issues a certificate for an OpenSSL-made CSR, signed at `now` (valid one year from then). */
export async function issueClient(
  options: { now?: Date; commonName?: string; bits?: 2048 | 4096 } = {},
): Promise<ClientFiles> {
  const made = await makeCsr(options.commonName ?? 'hr_integration-TE1002-renewal', options.bits ?? 2048);
  const csr = parseCsr(made.csr) as ReadCsr;
  const issued = issueCertificate(await loadTestCa(), csr, { now: options.now ?? new Date(), randomBytes });
  const dir = await tempDir('ons-certs-renew-');
  const files = { dir, cert: join(dir, 'client.pem'), key: join(dir, 'client.key') };
  await writeFile(files.cert, issued.pem);
  await writeFile(files.key, made.key, { mode: 0o600 });
  await chmod(files.key, 0o600);
  return files;
}

/** Every file of a directory with its bytes and mode: "nothing was written" compares two of these. */
export async function snapshot(dir: string): Promise<Record<string, { content: string; mode: number }>> {
  const result: Record<string, { content: string; mode: number }> = {};
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    result[name] = { content: await readFile(path, 'utf8'), mode: (await stat(path)).mode & 0o777 };
  }
  return result;
}

/** Quick 2048-bit keys for client tests that do not go through the server's policy. */
export function quickKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/** A DER certs-only PKCS#7 of the PEM certificates, made by `openssl crl2pkcs7`, as base64 lines. */
export async function certsOnly(pems: string[]): Promise<string> {
  const dir = await tempDir('ons-certs-p7-');
  const args = ['crl2pkcs7', '-nocrl', '-outform', 'PEM'];
  for (const [i, pem] of pems.entries()) {
    const path = join(dir, `c${i}.pem`);
    await writeFile(path, pem);
    args.push('-certfile', path);
  }
  const made = await openssl(args);
  if (made.code !== 0) throw new Error(`openssl crl2pkcs7 failed: ${made.output}`);
  return made.output.replace(/-----[A-Z0-9 ]+-----/g, '').trim();
}

/** A request the stand-in received. */
export interface StandInRequest {
  method: string;
  path: string;
  contentType: string;
  body: string;
  /** The client certificate the TLS connection presented (DER), if any. */
  peer?: Buffer;
}

export type StandInHandler = (
  request: StandInRequest,
) => Promise<{ status: number; type: string; body: string }>;

/**
 * An HTTPS stand-in for the EST listener (test CA's localhost certificate, client certificate
 * asked for, not required), answering with `handler`: the client's side of the contract can be
 * tested with answers the real server never gives.
 */
export async function startStandIn(
  handler: StandInHandler,
  tls: { cert?: string; key?: string } = {},
): Promise<{ url: string; requests: StandInRequest[]; close(): Promise<void> }> {
  const requests: StandInRequest[] = [];
  const server: Server = createServer(
    {
      cert: tls.cert ?? (await readFile(SERVER_CERT_PATH)),
      key: tls.key ?? (await readFile(SERVER_KEY_PATH)),
      ca: await readFile(CA_PEM_PATH),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        const received: StandInRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          contentType: String(req.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
          ...(peer?.raw ? { peer: peer.raw } : {}),
        };
        requests.push(received);
        handler(received).then(
          (answer) => {
            res.writeHead(answer.status, {
              'content-type': answer.type,
              'content-transfer-encoding': 'base64',
            });
            res.end(answer.body);
          },
          () => {
            res.writeHead(500);
            res.end();
          },
        );
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://localhost:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The stand-in's honest answer: the test CA signs the CSR (its subject and key) now. */
export async function signWithTestCa(base64Csr: string, now = new Date()): Promise<string> {
  const csr = parseCsr(Buffer.from(base64Csr.replace(/\s+/g, ''), 'base64'));
  if (!csr.ok) throw new Error(`the client sent a CSR the parser refuses: ${csr.problem}`);
  return issueCertificate(await loadTestCa(), csr, { now, randomBytes }).pem;
}

/** A TLS server certificate for localhost from the unrelated test CA (other-ca), made by openssl. */
export async function otherCaServerCertificate(): Promise<{ cert: string; key: string }> {
  const dir = await tempDir('ons-certs-tls-');
  const [key, csr, cert, ext] = ['server.key', 'server.csr', 'server.pem', 'ext.cnf'].map((n) =>
    join(dir, n),
  );
  await writeFile(ext!, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  for (const args of [
    ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key!, '-out', csr!, '-subj', '/CN=localhost'],
    ['x509', '-req', '-in', csr!, '-CA', join(CA_DIR, 'other-ca.pem'), '-CAkey', join(CA_DIR, 'other-ca.key'),
      '-set_serial', '7', '-days', '2', '-sha256', '-extfile', ext!, '-out', cert!], // prettier-ignore
  ]) {
    const made = await openssl(args);
    if (made.code !== 0) throw new Error(`openssl ${args[0]} failed: ${made.output}`);
  }
  return { cert: await readFile(cert!, 'utf8'), key: await readFile(key!, 'utf8') };
}
