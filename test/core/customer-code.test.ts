import { describe, expect, it } from 'vitest';
import { parseCustomerCode } from '../../src/core/customer-code.ts';

describe('customer codes', () => {
  it.each([
    ['TE1002', 'TE1002', 'development'],
    [' te1002 ', 'TE1002', 'development'],
    ['TE1234', 'TE1234', 'staging'],
    ['te0000', 'TE0000', 'staging'],
    ['CF1234', 'CF1234', 'production'],
    ['df6789', 'DF6789', 'production'],
    ['MF0001', 'MF0001', 'production'],
  ])('%j is %s, a %s code', (input, code, kind) => {
    expect(parseCustomerCode(input)).toEqual({ ok: true, code, kind });
  });

  it.each(['', 'TE123', 'TE12345', 'XF1234', 'CF12a4', 'TE 1234', 'CF-1234', '1002', 'TE1002\nCF1234'])(
    '%j is refused with invalid_customer_code and how codes look',
    (input) => {
      const result = parseCustomerCode(input);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.code).toBe('invalid_customer_code');
      expect(result.message).toContain('TE1002');
      expect(result.message).toContain('CF, DF or MF');
      expect(result.message).not.toContain('\n');
    },
  );

  it('a refusal quotes the code as it was typed (trimmed), not upper-cased', () => {
    const result = parseCustomerCode('  te12o4 ');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/^"te12o4" is not a customer code/);
  });
});
