import { describe, expect, it } from 'vitest';
import {
  judgeRenewer,
  type KnownCertificate,
  type PresentedCertificate,
} from '../../src/core/renewal-policy.ts';

const now = new Date('2027-03-01T12:00:00Z');
const ours: PresentedCertificate = { present: true, authorized: true, signedByOurCa: true };
const known: KnownCertificate = {
  enabled: true,
  notBefore: new Date('2026-12-01T00:00:00Z'),
  notAfter: new Date('2027-12-01T00:00:00Z'),
  line: { kind: 'production', customerCode: 'CF1234', hasConsent: true },
};
const code = (presented: PresentedCertificate, row: KnownCertificate | undefined) => {
  const refusal = judgeRenewer(presented, row, now);
  return refusal && `${refusal.status} ${refusal.code}`;
};

describe('judgeRenewer', () => {
  it('lets an enabled certificate of ours in its validity period renew on a line with consent', () => {
    expect(judgeRenewer(ours, known, now)).toBeUndefined();
  });

  it('needs no consent on a development line, and consent on staging and production', () => {
    const without = (kind: 'development' | 'staging' | 'production') => ({
      ...known,
      line: { kind, customerCode: 'X', hasConsent: false },
    });
    expect(code(ours, without('development'))).toBeUndefined();
    expect(code(ours, without('staging'))).toBe('403 no_consent');
    expect(code(ours, without('production'))).toBe('403 no_consent');
  });

  it('401 without a certificate, or with one that is not ours (whatever OpenSSL said of it)', () => {
    expect(code({ present: false, authorized: false, signedByOurCa: false }, undefined)).toBe(
      '401 client_certificate_required',
    );
    expect(code({ ...ours, signedByOurCa: false }, known)).toBe('401 certificate_unknown');
    expect(code(ours, undefined)).toBe('401 certificate_unknown');
    // OpenSSL may report "expired" for an expired certificate of another CA.
    const expiredElsewhere = {
      present: true,
      authorized: false,
      authorizationError: 'CERT_HAS_EXPIRED',
      signedByOurCa: false,
    };
    expect(code(expiredElsewhere, undefined)).toBe('401 certificate_unknown');
    // A chain problem other than the dates is never overlooked, even for a row we know.
    const badChain = { ...ours, authorized: false, authorizationError: 'CERT_SIGNATURE_FAILURE' };
    expect(code(badChain, known)).toBe('401 certificate_unknown');
  });

  it('403 for a known certificate that is disabled, expired, not yet valid, or whose line is gone', () => {
    const expiredByTls = { ...ours, authorized: false, authorizationError: 'CERT_HAS_EXPIRED' };
    expect(code(ours, { ...known, enabled: false })).toBe('403 certificate_disabled');
    expect(code(expiredByTls, { ...known, notAfter: new Date('2027-03-01T11:59:59Z') })).toBe(
      '403 certificate_expired',
    );
    expect(code(ours, { ...known, notBefore: new Date('2027-03-01T12:00:01Z') })).toBe(
      '403 certificate_not_yet_valid',
    );
    expect(code(ours, { ...known, line: undefined })).toBe('403 line_withdrawn');
    // Disabled is said first: it is the reason that holds whatever the date.
    expect(code(expiredByTls, { ...known, enabled: false, notAfter: new Date('2027-01-01Z') })).toBe(
      '403 certificate_disabled',
    );
  });

  it('judges expiry on its own clock, not only on what TLS said', () => {
    const expired = { ...known, notAfter: new Date('2027-02-28T00:00:00Z') };
    expect(code(ours, expired)).toBe('403 certificate_expired');
    expect(judgeRenewer(ours, expired, now)?.message).toContain('2027-02-28T00:00:00.000Z');
  });
});
