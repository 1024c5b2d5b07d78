import { describe, expect, it } from 'vitest';
import { attemptKey } from '../../src/core/client-address.ts';

describe('attemptKey', () => {
  it('counts an IPv4 address as it is, also when the socket shows it IPv4-mapped', () => {
    expect(attemptKey('192.0.2.7')).toBe('192.0.2.7');
    expect(attemptKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(attemptKey('::FFFF:127.0.0.2')).toBe('127.0.0.2');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    const key = '2001:db8:0:1::/64';
    expect(attemptKey('2001:db8:0:1::1')).toBe(key);
    expect(attemptKey('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe(key);
    expect(attemptKey('2001:db8:0:1:abcd::9%eth0')).toBe(key);
    expect(attemptKey('2001:db8:0:2::1')).not.toBe(key);
    expect(attemptKey('::1')).toBe('0:0:0:0::/64');
    expect(attemptKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('counts what is not an address under itself, and nothing under unknown', () => {
    expect(attemptKey(undefined)).toBe('unknown');
    expect(attemptKey('')).toBe('unknown');
    expect(attemptKey('1:2:3')).toBe('1:2:3');
    expect(attemptKey('1::2::3')).toBe('1::2::3');
  });
});
