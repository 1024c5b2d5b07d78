import { generateKeyPair, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { addOneCalendarYear, drawSerial, keyIdentifier, signTbs } from '../ca/issue-certificate.ts';
import { toPem } from '../ca/pem.ts';

/** The gateway's TLS server certificate and key, PEM. */
export interface ServerCredentials {
  certPem: string;
  keyPem: string;
}

/**
 * A self-signed TLS server certificate for localhost (DNS localhost, IP 127.0.0.1 and ::1), RSA
 * 2048, valid one year: enough for trying the gateway on one machine, where clients trust it
 * with `curl --cacert server.pem`. It is not made by our CA, which signs client certificates only.
 */
export async function createLocalServerCredentials(now = new Date()): Promise<ServerCredentials> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const spkiDer = publicKey.export({ format: 'der', type: 'spki' });
  const cert = forge.pki.createCertificate();
  cert.serialNumber = drawSerial(randomBytes);
  cert.validity.notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);
  cert.validity.notAfter = addOneCalendarYear(now);
  cert.publicKey = forge.pki.publicKeyFromAsn1(forge.asn1.fromDer(spkiDer.toString('binary')));
  const name = [
    { shortName: 'CN', value: 'localhost' },
    { shortName: 'O', value: 'ons-certs gateway (self-signed)' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  const ski = keyIdentifier(spkiDer).toString('hex');
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
    { name: 'subjectKeyIdentifier', subjectKeyIdentifier: ski },
  ]);
  cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  const tbs = (
    forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }
  ).getTBSCertificate(cert);
  const der = signTbs({ privateKey }, Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary'));
  return {
    certPem: toPem('CERTIFICATE', der),
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/**
 * The self-signed localhost credentials under `dir` (server.pem, server.key), made on first use
 * and made again when the certificate has expired or is about to (within a week).
 */
export async function localServerCredentials(
  dir: string,
  now = new Date(),
): Promise<ServerCredentials & { certPath: string; keyPath: string; created: boolean }> {
  const certPath = join(dir, 'server.pem');
  const keyPath = join(dir, 'server.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    const validTo = new Date(new X509Certificate(certPem).validTo).getTime();
    if (validTo - now.getTime() > 7 * 24 * 3600_000)
      return { certPem, keyPem, certPath, keyPath, created: false };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const made = await createLocalServerCredentials(now);
  const suffix = `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(keyPath + suffix, made.keyPem, { mode: 0o600 });
  await writeFile(certPath + suffix, made.certPem, { mode: 0o644 });
  await rename(keyPath + suffix, keyPath);
  await rename(certPath + suffix, certPath);
  return { ...made, certPath, keyPath, created: true };
}
