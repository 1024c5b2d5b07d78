import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommonName } from '../../src/core/common-name.ts';
import { judgeCsr, type CsrFacts } from '../../src/core/csr-policy.ts';
import { unsafeCharacters } from '../../src/core/distinguished-name.ts';

describe('the CN form {technical_name}-{customer_code}-{identification}', () => {
  it.each([
    ['hr_integration-TE1002-free_text', 'hr_integration', 'TE1002', 'free_text'],
    ['finance_integration-DF0000-production', 'finance_integration', 'DF0000', 'production'],
    ['a1-MF9999-X_9', 'a1', 'MF9999', 'X_9'],
  ])('%s parses', (cn, technicalName, customerCode, identification) => {
    expect(parseCommonName(cn)).toEqual({ ok: true, parts: { technicalName, customerCode, identification } });
  });

  it.each([
    ['hr_integration-TE1002-free-text', /2 dashes|3 dashes|use _ instead of -/],
    ['hr_integration-TE1002', /1 dash/],
    ['HR_integration-TE1002-x', /connector name "HR_integration"/],
    ['hr_integration-te1002-x', /"te1002" is not a customer code/],
    ['hr_integration-XX1002-x', /"XX1002" is not a customer code/],
    ['hr_integration-TE1002-free text', /identification "free text"/],
    ['hr_integration-TE1002-', /identification ""/],
    ['-TE1002-x', /connector name ""/],
  ])('%j is refused: %s', (cn, problem) => {
    const result = parseCommonName(cn);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join('; ')).toMatch(problem);
  });

  it('names every problem of a CN at once', () => {
    const result = parseCommonName('Bad Name-te99-free text');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toHaveLength(3);
  });

  it('never throws on arbitrary input, and reports cn_format for anything malformed', () => {
    const facts = (cn: string): CsrFacts => ({
      subject: [
        { type: 'CN', value: cn },
        { type: 'OU', value: 'u' },
        { type: 'O', value: 'o' },
        { type: 'L', value: 'l' },
        { type: 'ST', value: 's' },
        { type: 'C', value: 'NL' },
        { type: 'emailAddress', value: 'a@b.nl' },
      ],
      publicKey: { type: 'rsa', bits: 4096, exponent: 65537n },
      signatureAlgorithm: 'sha256WithRSAEncryption',
      signatureHash: 'sha256',
      signatureValid: true,
      requested: { ca: false, keyUsages: [] },
      fingerprintSha256: '00',
      publicKeySha256: '11',
    });
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (cn) => {
        const parsed = parseCommonName(cn);
        const verdict = judgeCsr({ ok: true, facts: facts(cn) }, { minRsaBits: 4096 });
        const codes = verdict.violations.map((v) => v.code);
        if (parsed.ok) {
          expect(codes).not.toContain('cn_format');
        } else if (cn.trim() !== '') {
          // A control character or bidi override in the CN is also refused as such.
          const unsafe = unsafeCharacters(cn).length > 0;
          expect(codes).toEqual(unsafe ? ['subject_invalid_field', 'cn_format'] : ['cn_format']);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
