import { describe, expect, it } from 'vitest';
import { parseCsr } from '../../src/ca/parse-csr.ts';
import { judgeCsr, type CsrViolationCode, type PolicyContext } from '../../src/core/csr-policy.ts';
import { readCsr } from '../helpers/fixtures.ts';

const line: PolicyContext = { minRsaBits: 4096, connector: 'hr_integration', customerCode: 'TE1002' };

async function verdictFor(file: string, context: PolicyContext = line) {
  return judgeCsr(parseCsr(await readCsr(file)), context);
}

describe('the CSR policy over OpenSSL-made fixtures (checked against hr_integration / TE1002)', () => {
  const table: [string, CsrViolationCode[]][] = [
    ['valid-development.csr', []],
    ['new-header.csr', []],
    ['key-2048.csr', ['key_too_small']],
    ['key-8200.csr', ['key_too_large']],
    ['ec-key.csr', ['key_type_unsupported']],
    ['exponent-3.csr', ['key_exponent']],
    ['sha1-signed.csr', ['weak_signature_hash']],
    ['missing-ou.csr', ['subject_missing_field']],
    ['missing-email.csr', ['subject_missing_field']],
    ['missing-several.csr', ['subject_missing_field']],
    ['bad-country.csr', ['subject_invalid_field']],
    ['bad-email.csr', ['subject_invalid_field']],
    ['duplicate-ou.csr', ['subject_invalid_field']],
    ['cn-dash.csr', ['cn_format']],
    ['cn-other-connector.csr', ['cn_connector_mismatch']],
    ['cn-other-customer-code.csr', ['cn_customer_code_mismatch']],
    ['ca-requested.csr', ['ca_requested']],
    ['tampered-signature.csr', ['signature_invalid']],
    ['garbage.csr', ['malformed_csr']],
    ['two-csrs.csr', ['malformed_csr']],
    ['oversized.csr', ['malformed_csr']],
    ['private-key-included.csr', ['malformed_csr']],
    [
      'many-violations.csr',
      [
        'weak_signature_hash',
        'key_too_small',
        'key_exponent',
        'subject_missing_field',
        'subject_invalid_field',
        'cn_format',
      ],
    ],
  ];

  it.each(table)('%s → %j', async (file, codes) => {
    const verdict = await verdictFor(file);
    expect(verdict.violations.map((v) => v.code)).toEqual(codes);
    expect(verdict.ok).toBe(codes.length === 0);
    for (const violation of verdict.violations) expect(violation.message.length).toBeGreaterThan(30);
  });

  it('valid production and staging CSRs pass on their own lines', async () => {
    const production = await verdictFor('valid-production.csr', {
      minRsaBits: 4096,
      connector: 'finance_integration',
      customerCode: 'DF0000',
    });
    const staging = await verdictFor('valid-staging.csr', { ...line, customerCode: 'TE1234' });
    expect(production).toEqual({ ok: true, violations: [] });
    expect(staging).toEqual({ ok: true, violations: [] });
  });

  it('tells the supplier what to fix, in words', async () => {
    const message = (v: { violations: { code: string; message: string }[] }, code: string) =>
      v.violations.find((x) => x.code === code)?.message;
    expect(message(await verdictFor('key-2048.csr'), 'key_too_small')).toMatch(
      /^the key is 2048 bits; the Ons API requires at least 4096: generate a new key with `?openssl req -new -newkey rsa:4096/,
    );
    expect(message(await verdictFor('missing-several.csr'), 'subject_missing_field')).toMatch(
      /lacks OU, L and emailAddress/,
    );
    expect(message(await verdictFor('ec-key.csr'), 'key_type_unsupported')).toMatch(
      /EC .*requires an RSA key/,
    );
    expect(message(await verdictFor('duplicate-ou.csr'), 'subject_invalid_field')).toMatch(
      /OU appears more than once/,
    );
    expect(message(await verdictFor('bad-email.csr'), 'subject_invalid_field')).toMatch(/not-an-address/);
    expect(message(await verdictFor('cn-other-customer-code.csr'), 'cn_customer_code_mismatch')).toMatch(
      /hr_integration-TE1002-free_text/,
    );
    expect(message(await verdictFor('ca-requested.csr'), 'ca_requested')).toMatch(
      /CA:TRUE, keyCertSign, cRLSign/,
    );
    expect(message(await verdictFor('oversized.csr'), 'malformed_csr')).toMatch(/80 KiB/);
    expect(message(await verdictFor('two-csrs.csr'), 'malformed_csr')).toMatch(/2 certificate requests/);
    expect(message(await verdictFor('private-key-included.csr'), 'malformed_csr')).toMatch(/PRIVATE KEY/);
  });

  it('honours the minimum key size setting (the older published rule was 2048)', async () => {
    expect((await verdictFor('key-2048.csr', { ...line, minRsaBits: 2048 })).ok).toBe(true);
  });

  it('checks only the CN form when no connector or customer code is given', async () => {
    expect((await verdictFor('cn-other-connector.csr', { minRsaBits: 4096 })).ok).toBe(true);
    expect((await verdictFor('cn-dash.csr', { minRsaBits: 4096 })).violations.map((v) => v.code)).toEqual([
      'cn_format',
    ]);
  });

  it('refuses a key from an earlier certificate, and calls a disabled one compromised', async () => {
    const parsed = parseCsr(await readCsr('valid-development.csr'));
    if (!parsed.ok) throw new Error(parsed.problem);
    const key = parsed.facts.publicKeySha256;
    const other = 'ab'.repeat(32);
    const codes = (status: 'issued' | 'disabled') =>
      judgeCsr(parsed, {
        ...line,
        knownKeys: new Map([
          [key, status],
          [other, 'disabled'],
        ]),
      }).violations.map((v) => v.code);
    expect(codes('issued')).toEqual(['key_reused']);
    expect(codes('disabled')).toEqual(['key_compromised']);
    expect(judgeCsr(parsed, { ...line, knownKeys: new Map([[other, 'disabled']]) }).ok).toBe(true);
  });

  it('reports every violation of a CSR together, database rules included', async () => {
    const parsed = parseCsr(await readCsr('many-violations.csr'));
    if (!parsed.ok) throw new Error(parsed.problem);
    const verdict = judgeCsr(parsed, {
      ...line,
      knownKeys: new Map([[parsed.facts.publicKeySha256, 'issued']]),
    });
    expect(verdict.violations.map((v) => v.code)).toContain('key_reused');
    expect(verdict.violations).toHaveLength(7);
  });
});
