import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import forge from 'node-forge';
import {
  createCaMaterial,
  privateKeyPem,
  type CertificateAuthority,
} from '../src/ca/certificate-authority.ts';
import { loadCertificateAuthority, writeCaFiles } from '../src/ca/certificate-authority.ts';
import { parseCsr } from '../src/ca/parse-csr.ts';
import { checkAndIssue } from '../src/ca/sign-csr.ts';
import { judgeCsr } from '../src/core/csr-policy.ts';
import { opensslRsa4096SignsPerSecond } from './openssl-speed.ts';
import { BENCH_DIR, FIXTURES, ratioLine, repeatFor, tempDir } from './support.ts';

/** Makes the RSA-4096 CA the benchmarks sign with. */
export async function benchCa(): Promise<CertificateAuthority> {
  const dir = await tempDir();
  const files = { certPath: `${dir}/ca.pem`, keyPath: `${dir}/ca.key` };
  await writeCaFiles(files, await createCaMaterial({ commonName: 'ons-certs bench CA', randomBytes }), false);
  return loadCertificateAuthority(files);
}

/** The CA-only issuing rate: parse, verify, policy, build, sign, PEM, on one core. */
export async function caCertificatesPerSecond(ca: CertificateAuthority, seconds: number): Promise<number> {
  const csrs = await Promise.all(
    ['valid-development.csr', 'valid-production.csr', 'valid-staging.csr'].map((f) =>
      readFile(`${FIXTURES}/${f}`, 'utf8'),
    ),
  );
  const contexts = [
    { minRsaBits: 4096, connector: 'hr_integration', customerCode: 'TE1002' },
    { minRsaBits: 4096, connector: 'finance_integration', customerCode: 'DF0000' },
    { minRsaBits: 4096, connector: 'hr_integration', customerCode: 'TE1234' },
  ];
  let i = 0;
  return repeatFor(seconds, () => {
    const k = i++ % 3;
    const result = checkAndIssue(csrs[k]!, contexts[k]!, ca, { now: new Date(), randomBytes });
    if (!result.ok) throw new Error(`bench CSR refused: ${JSON.stringify(result.violations)}`);
  });
}

export async function runCaBenchmark(): Promise<string[]> {
  const ca = await benchCa();
  const csrPem = await readFile(`${FIXTURES}/valid-development.csr`, 'utf8');
  const context = { minRsaBits: 4096, connector: 'hr_integration', customerCode: 'TE1002' };

  // Best of three alternating rounds: other tenants of this machine slow either side at random.
  let openssl = 0;
  let ours = 0;
  for (let round = 0; round < 3; round++) {
    openssl = Math.max(openssl, await opensslRsa4096SignsPerSecond(2));
    ours = Math.max(ours, await caCertificatesPerSecond(ca, 2));
  }
  // Everything but the private-key operation, to show where the time goes.
  const checkOnly = repeatFor(1, () => judgeCsr(parseCsr(csrPem), context));
  const forgeRate = forgeSignsPerSecond(ca, csrPem, 4);

  // ratio >= 0.8 is the same statement as: all but the signature costs <= 0.25 of one.
  const overhead = openssl / ours - 1;
  return [
    ratioLine('ca.issue', ours / openssl, 0.8, [
      `${ours.toFixed(1)} certificates/s per core (1 core, best of 3 rounds, RSA-4096 CA, full path: parse, verify, policy, build, sign, PEM)`,
      `openssl speed rsa4096 ${openssl.toFixed(1)} sign/s (1 core, best of 3 rounds)`,
    ]),
    ratioLine('ca.forge-sign', (await forgeRate) / openssl, undefined, [
      `node-forge cert.sign ${(await forgeRate).toFixed(2)}/s (pure JS, what the CA would do without Node's crypto)`,
    ]),
    `  details: parse+verify+policy alone ${checkOnly.toFixed(0)}/s (${(openssl / checkOnly).toFixed(3)} of one OpenSSL signature); ` +
      `everything but the signature ${overhead.toFixed(3)} of one OpenSSL signature (budget 0.25)`,
  ];
}

async function forgeSignsPerSecond(ca: CertificateAuthority, csrPem: string, count: number): Promise<number> {
  const forgeKey = forge.pki.privateKeyFromPem(privateKeyPem(ca.privateKey));
  const csr = parseCsr(csrPem);
  if (!csr.ok) throw new Error(csr.problem);
  const spki = forge.asn1.fromDer(csr.spkiDer.toString('binary'));
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const cert = forge.pki.createCertificate();
    cert.serialNumber = '01';
    cert.publicKey = forge.pki.publicKeyFromAsn1(spki);
    cert.validity.notBefore = new Date();
    cert.validity.notAfter = new Date(Date.now() + 365 * 86400_000);
    cert.sign(forgeKey, forge.md.sha256.create());
    forge.pki.certificateToPem(cert);
  }
  return count / ((performance.now() - started) / 1000);
}

export { BENCH_DIR };
