import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readChildren, readTlv, slice } from '../../src/ca/der.ts';
import { issueCertificate } from '../../src/ca/issue-certificate.ts';
import { withPrimalityTest } from '../../src/ca/key-primality.ts';
import { parseCsr } from '../../src/ca/parse-csr.ts';
import { toPem } from '../../src/ca/pem.ts';
import { judgeCsr } from '../../src/core/csr-policy.ts';
import { readPair, subjectDerOf, type CurrentPair } from '../../src/renewal/current-pair.ts';
import { buildCsr, newRenewalKey } from '../../src/renewal/make-csr.ts';
import { loadTestCa, openssl, tempDir } from '../helpers/fixtures.ts';
import { issueClient } from '../helpers/renewal.ts';

let current: CurrentPair;
beforeAll(async () => {
  const files = await issueClient();
  current = readPair(await readFile(files.cert, 'utf8'), await readFile(files.key, 'utf8'), files);
});

describe('the renewal CSR', () => {
  it('is RSA-4096 with the certificate subject byte for byte, and the strict parser and the policy accept it', async () => {
    const key = await newRenewalKey();
    expect(key.asymmetricKeyDetails).toMatchObject({ modulusLength: 4096, publicExponent: 65537n });
    const der = buildCsr(current.subjectDer, key);

    const parsed = await withPrimalityTest(parseCsr(der));
    if (!parsed.ok) throw new Error(parsed.problem);
    // The parser re-encodes the subject from what it read and refuses any difference, so equal
    // facts and an accepted parse mean the same attributes, order and string types.
    expect(
      parsed.facts.subject.map(({ type, value, stringType }) => [type, value, stringType]),
    ).toStrictEqual([
      ['CN', 'hr_integration-TE1002-renewal', 'utf8'],
      ['OU', 'Integrations', 'utf8'],
      ['O', 'Example Software B.V.', 'utf8'],
      ['L', 'Enschede', 'utf8'],
      ['ST', 'Overijssel', 'utf8'],
      ['C', 'NL', 'printable'],
      ['emailAddress', 'pki@example.com', 'ia5'],
    ]);
    expect(parsed.facts.signatureAlgorithm).toBe('sha256WithRSAEncryption');
    expect(parsed.facts.signatureValid).toBe(true);
    const verdict = judgeCsr(parsed, {
      minRsaBits: 4096,
      connector: 'hr_integration',
      customerCode: 'TE1002',
    });
    expect(verdict).toStrictEqual({ ok: true, violations: [] });

    // OpenSSL agrees: the signature verifies and the subject is the certificate's.
    const dir = await tempDir();
    await writeFile(join(dir, 'r.csr'), toPem('CERTIFICATE REQUEST', der));
    const checked = await openssl([
      'req',
      '-in',
      join(dir, 'r.csr'),
      '-verify',
      '-noout',
      '-subject',
      '-nameopt',
      'RFC2253',
    ]);
    expect(checked.code).toBe(0);
    expect(checked.output).toMatch(/verify OK|Certificate request self-signature verify OK/);
    const certSubject = await openssl(
      ['x509', '-noout', '-subject', '-nameopt', 'RFC2253'],
      current.certificate.toString(),
    );
    expect(checked.output).toContain(certSubject.output.trim());
  });

  it('copies a subject in other string types (OpenSSL string_mask=default: PrintableString and a wider type for the ë) byte for byte', async () => {
    const dir = await tempDir();
    const config = join(dir, 'req.cnf');
    await writeFile(config, '[req]\ndistinguished_name=dn\nstring_mask=default\nprompt=no\n[dn]\n');
    const made = await openssl([
      'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'r'),
      '-config', config, '-utf8',
      '-subj', '/CN=hr_integration-TE1002-zo\u00eb/OU=Integrations/O=Example Software B.V./C=NL/emailAddress=pki@example.com',
    ]); // prettier-ignore
    expect(made.code, made.output).toBe(0);
    const original = parseCsr(await readFile(join(dir, 'r')));
    if (!original.ok) throw new Error(original.problem);
    const types = original.facts.subject.map((e) => e.stringType);
    expect(types).toContain('printable');
    expect(types.some((t) => t !== 'printable' && t !== 'utf8')).toBe(true);

    const issued = issueCertificate(await loadTestCa(), original, { now: new Date(), randomBytes });
    const renewal = parseCsr(buildCsr(subjectDerOf(issued.der), await newRenewalKey()));
    if (!renewal.ok) throw new Error(renewal.problem);
    expect(subjectOfCsr(renewal.der).equals(subjectOfCsr(original.der))).toBe(true);
    expect(renewal.facts.subject).toStrictEqual(original.facts.subject);
  });
});

/** CertificationRequestInfo's subject, as bytes. */
function subjectOfCsr(der: Buffer): Buffer {
  const info = readChildren(der, readTlv(der, 0))[0]!;
  return slice(der, readChildren(der, info)[1]!);
}
