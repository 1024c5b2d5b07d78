import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCsr } from '../../src/ca/parse-csr.ts';
import { toPem } from '../../src/ca/pem.ts';
import { judgeCsr } from '../../src/core/csr-policy.ts';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CA_DIR, csrPath, openssl, readCsr, tempDir } from '../helpers/fixtures.ts';

const policy = { minRsaBits: 4096 };

describe('reading a CSR', () => {
  it('reads what OpenSSL reads: subject, key, algorithm and fingerprints', async () => {
    const parsed = parseCsr(await readCsr('valid-staging.csr'));
    if (!parsed.ok) throw new Error(parsed.problem);
    const derPath = `${await tempDir()}/staging.der`;
    const converted = await openssl([
      'req',
      '-in',
      csrPath('valid-staging.csr'),
      '-outform',
      'DER',
      '-out',
      derPath,
    ]);
    expect(parsed.facts).toMatchObject({
      subject: [
        { type: 'CN', value: 'hr_integration-TE1234-acceptance' },
        { type: 'OU', value: 'Integrations' },
        { type: 'O', value: 'Example Software B.V.' },
        { type: 'L', value: 'Enschede' },
        { type: 'ST', value: 'Overijssel' },
        { type: 'C', value: 'NL' },
        { type: 'emailAddress', value: 'pki@example.com' },
      ],
      publicKey: { type: 'rsa', bits: 4096, exponent: 65537n },
      signatureAlgorithm: 'sha384WithRSAEncryption',
      signatureHash: 'sha384',
      signatureValid: true,
      requested: { ca: false, keyUsages: [] },
    });
    expect(converted.code).toBe(0);
    expect(parsed.facts.fingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(parsed.facts.fingerprintSha256).toBe(
      createHash('sha256')
        .update(await readFile(derPath))
        .digest('hex'),
    );
  });

  it('reads UTF-8 subjects as text', async () => {
    const path = `${await tempDir()}/utf8.csr`;
    const made = await openssl([
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      '/dev/null',
      '-out',
      path,
      '-utf8',
      '-subj',
      '/CN=hr_integration-TE1002-x/OU=Zorg/O=Bedrijf ë/L=Zwolle/ST=Overijssel/C=NL/emailAddress=a@b.nl',
    ]);
    expect(made.code).toBe(0);
    const parsed = parseCsr(await readFile(path));
    expect(parsed.ok && parsed.facts.subject.find((a) => a.type === 'O')?.value).toBe('Bedrijf ë');
  });

  it('never throws on arbitrary text, and calls it malformed_csr', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 3000 }), (text) => {
        const verdict = judgeCsr(parseCsr(text), policy);
        expect(verdict.violations.map((v) => v.code)).toEqual(['malformed_csr']);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on arbitrary bytes in PEM armour', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        const verdict = judgeCsr(parseCsr(toPem('CERTIFICATE REQUEST', bytes)), policy);
        expect(verdict.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on a real CSR with bytes changed, and never accepts it with a valid signature claim it lacks', async () => {
    const original = parseCsr(await readCsr('valid-development.csr'));
    if (!original.ok) throw new Error(original.problem);
    const der = original.der;
    fc.assert(
      fc.property(
        // Distinct positions: XOR-ing one byte twice with the same value would undo the change.
        fc.uniqueArray(fc.tuple(fc.nat({ max: der.length - 1 }), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
          selector: ([at]) => at,
        }),
        (changes) => {
          const mutated = Buffer.from(der);
          for (const [at, xor] of changes) mutated[at] = mutated[at]! ^ xor;
          const parsed = parseCsr(toPem('CERTIFICATE REQUEST', mutated));
          const verdict = judgeCsr(parsed, {
            ...policy,
            connector: 'hr_integration',
            customerCode: 'TE1002',
          });
          // Any change to the signed bytes, the signature or the structure must be refused.
          expect(verdict.ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses BER that is not DER (indefinite length)', () => {
    const ber = Buffer.from([0x30, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00]);
    const parsed = parseCsr(toPem('CERTIFICATE REQUEST', ber));
    expect(parsed.ok).toBe(false);
  });

  it('says what a certificate is when one is uploaded instead of a CSR', async () => {
    const parsed = parseCsr(await readFile(`${CA_DIR}/ca.pem`));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(/holds a CERTIFICATE, not a certificate request/);
  });
});
