import { X509Certificate, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority } from '../../src/ca/certificate-authority.ts';
import { drawSerial, issueCertificate, type IssueOptions } from '../../src/ca/issue-certificate.ts';
import { parseCsr } from '../../src/ca/parse-csr.ts';
import { checkAndIssue } from '../../src/ca/sign-csr.ts';
import { CA_DIR, loadTestCa, openssl, readCsr, tempDir } from '../helpers/fixtures.ts';

let ca: CertificateAuthority;
let dir: string;
const at = (iso: string): IssueOptions => ({ now: new Date(iso), randomBytes });
const line = { minRsaBits: 4096, connector: 'hr_integration', customerCode: 'TE1002' };

beforeAll(async () => {
  ca = await loadTestCa();
  dir = await tempDir();
});

async function parsed(file: string) {
  const csr = parseCsr(await readCsr(file));
  if (!csr.ok) throw new Error(csr.problem);
  return csr;
}

async function save(name: string, pem: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, pem);
  return path;
}

async function x509Text(pem: string): Promise<string> {
  const result = await openssl([
    'x509',
    '-noout',
    '-text',
    '-in',
    await save(`text-${Math.random()}.pem`, pem),
  ]);
  expect(result.code).toBe(0);
  return result.output;
}

describe('issuing a client certificate', () => {
  it('makes a certificate OpenSSL accepts for TLS client authentication', async () => {
    const result = checkAndIssue(await readCsr('valid-development.csr'), line, ca, {
      ...at('2026-11-28T10:00:00Z'),
      crlDistributionPoint: 'https://certs.example.com/crl',
    });
    if (!result.ok) throw new Error(JSON.stringify(result.violations));
    const certPath = await save('dev.pem', result.certificate.pem);
    const verified = await openssl([
      'verify',
      '-purpose',
      'sslclient',
      '-CAfile',
      join(CA_DIR, 'ca.pem'),
      certPath,
    ]);
    expect(verified.output).toContain(`${certPath}: OK`);
    expect(verified.code).toBe(0);
  });

  it('sets only the extensions the CA chooses, signed with SHA-256', async () => {
    const issued = issueCertificate(ca, await parsed('valid-development.csr'), {
      ...at('2026-11-28T10:00:00Z'),
      crlDistributionPoint: 'https://certs.example.com/crl',
    });
    const text = await x509Text(issued.pem);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: \s+TLS Web Client Authentication\n/);
    expect(text).toMatch(
      /X509v3 CRL Distribution Points: \s+Full Name:\s+URI:https:\/\/certs.example.com\/crl/,
    );
    const extensionNames = [...text.matchAll(/^\s+(X509v3 [A-Za-z ]+):/gm)]
      .map((m) => m[1])
      .filter((name) => name !== 'X509v3 extensions');
    expect(extensionNames.sort()).toEqual(
      [
        'X509v3 Authority Key Identifier',
        'X509v3 Basic Constraints',
        'X509v3 CRL Distribution Points',
        'X509v3 Extended Key Usage',
        'X509v3 Key Usage',
        'X509v3 Subject Key Identifier',
      ].sort(),
    );
    const cert = new X509Certificate(issued.der);
    expect(cert.subject).toBe(
      'CN=hr_integration-TE1002-free_text\nOU=Integrations\nO=Example Software B.V.\nL=Enschede\nST=Overijssel\nC=NL\nemailAddress=pki@example.com',
    );
    expect(cert.issuer).toBe(ca.certificate.subject);
    expect(cert.checkIssued(ca.certificate)).toBe(true);
    expect(cert.verify(ca.certificate.publicKey)).toBe(true);
    const caSki = (await x509Text(ca.chainPem)).match(/Subject Key Identifier: \s+([0-9A-F:]+)/)?.[1];
    expect(text).toContain(`Authority Key Identifier: \n                ${caSki}`);
  });

  it('never copies an extension from the CSR, not even a CA request', async () => {
    const issued = issueCertificate(ca, await parsed('ca-requested.csr'), at('2026-11-28T10:00:00Z'));
    const text = await x509Text(issued.pem);
    expect(text).toMatch(/CA:FALSE/);
    expect(text).not.toMatch(/CA:TRUE|Certificate Sign|CRL Sign/);
    expect(text).not.toContain('CRL Distribution Points');

    const csrPath = join(dir, 'san.csr');
    const made = await openssl([
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'san.key'),
      '-out',
      csrPath,
      '-subj',
      '/CN=hr_integration-TE1002-x/OU=u/O=o/L=l/ST=s/C=NL/emailAddress=a@b.nl',
      '-addext',
      'subjectAltName=DNS:api.nedap.example',
      '-addext',
      'nsComment=copied?',
      '-addext',
      'extendedKeyUsage=serverAuth,codeSigning',
    ]);
    expect(made.code).toBe(0);
    const san = parseCsr(await readFile(csrPath));
    if (!san.ok) throw new Error(san.problem);
    const sanText = await x509Text(issueCertificate(ca, san, at('2026-11-28T10:00:00Z')).pem);
    expect(sanText).not.toMatch(
      /Subject Alternative Name|api\.nedap\.example|Comment|Server Authentication|Code Signing/,
    );
  });

  it('is valid from 60 s before signing until one calendar year after', async () => {
    const csr = await parsed('valid-development.csr');
    const cases = [
      ['2026-11-28T10:00:00.000Z', '2026-11-28T09:59:00.000Z', '2027-11-28T10:00:00.000Z'],
      ['2026-11-28T10:00:00.750Z', '2026-11-28T09:59:00.000Z', '2027-11-28T10:00:00.000Z'],
      ['2028-02-29T23:30:05.000Z', '2028-02-29T23:29:05.000Z', '2029-03-01T23:30:05.000Z'],
      ['2026-12-31T23:59:59.000Z', '2026-12-31T23:58:59.000Z', '2027-12-31T23:59:59.000Z'],
    ];
    for (const [now, notBefore, notAfter] of cases) {
      const issued = issueCertificate(ca, csr, at(now!));
      expect(issued.notBefore.toISOString()).toBe(notBefore);
      expect(issued.notAfter.toISOString()).toBe(notAfter);
      const cert = new X509Certificate(issued.der);
      expect(new Date(cert.validFrom).toISOString()).toBe(notBefore);
      expect(new Date(cert.validTo).toISOString()).toBe(notAfter);
    }
  });

  it('draws positive 16-byte serials, unique over 2,000 issuances', async () => {
    const csr = await parsed('valid-production.csr');
    const serials = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const issued = issueCertificate(ca, csr, at('2026-11-28T10:00:00Z'));
      expect(issued.serial).toMatch(/^[0-7][0-9a-f]{31}$/);
      expect(issued.serial.startsWith('00')).toBe(false);
      if (i % 500 === 0)
        expect(new X509Certificate(issued.der).serialNumber.toLowerCase()).toBe(issued.serial);
      serials.add(issued.serial);
    }
    expect(serials.size).toBe(2000);
  }, 120_000);

  it('clears the top bit and redraws a leading zero byte so the DER stays 16 bytes', () => {
    const draws = [
      Buffer.alloc(16, 0x80),
      Buffer.alloc(16, 0xff),
      Buffer.from('00'.repeat(15) + '01', 'hex'),
    ];
    const next = () => draws.shift()!;
    // 0x80… clears to 0x00… (non-minimal DER): drawn again; 0xff… clears to 0x7f….
    expect(drawSerial(next)).toBe('7f' + 'ff'.repeat(15));
    const zeroFirst = [
      Buffer.from('80' + '11'.repeat(15), 'hex'),
      Buffer.from('05' + '22'.repeat(15), 'hex'),
    ];
    expect(drawSerial(() => zeroFirst.shift()!)).toBe('05' + '22'.repeat(15));
  });

  it('issues nothing for a CSR the policy refuses', async () => {
    const result = checkAndIssue(await readCsr('many-violations.csr'), line, ca, at('2026-11-28T10:00:00Z'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.violations.length).toBe(6);
  });
});
