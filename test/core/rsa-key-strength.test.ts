import { beforeAll, describe, expect, it } from 'vitest';
import {
  FERMAT_ROUNDS,
  iroot,
  modulusWeakness,
  ROCA_PRIMES,
  rocaGeneratorOrders,
} from '../../src/core/rsa-key-strength.ts';
import { bitLength, nextPrime, randomPrime, rocaPrime } from '../helpers/weak-keys.ts';

// Moduli built in the test; the keys around them (and CSRs signed with them) are in
// test/ca/weak-keys.test.ts and test/api/weak-keys.test.ts.
describe('weak RSA moduli (core/rsa-key-strength.ts)', () => {
  let q4095: bigint;
  let p2048: bigint;

  beforeAll(async () => {
    [q4095, p2048] = await Promise.all([randomPrime(4095), randomPrime(2048)]);
  }, 60_000);

  it('finds an even modulus and one with a prime factor below 752, and none at 757', () => {
    expect(modulusWeakness(2n * q4095)).toEqual({ kind: 'even' });
    expect(modulusWeakness(3n * q4095)).toEqual({ kind: 'small_factor', factor: 3 });
    expect(modulusWeakness(751n * q4095)).toEqual({ kind: 'small_factor', factor: 751 });
    // 757 is the first prime above Boulder's bound: not a small factor (and nothing else here).
    expect(modulusWeakness(757n * q4095)).toBeUndefined();
  });

  it('factors close primes with Fermat: 2^516 apart in round 1, 2^1028 apart within 110 rounds', async () => {
    const q516 = await nextPrime(p2048 + (1n << 516n));
    expect(modulusWeakness(p2048 * q516)).toEqual({ kind: 'close_primes', round: 1 });
    // a - sqrt(n) ≈ (p - q)² / (8·sqrt(n)) = 2^2056 / 2^2051 = 32 rounds
    const q1028 = await nextPrime(p2048 + (1n << 1028n));
    const found = modulusWeakness(p2048 * q1028);
    expect(found).toMatchObject({ kind: 'close_primes' });
    expect((found as { round: number }).round).toBeGreaterThan(20);
    expect((found as { round: number }).round).toBeLessThanOrEqual(FERMAT_ROUNDS);
    // 2^1036 apart needs ~2^13 rounds: past the 110 Boulder (and we) run, so not found.
    const q1036 = await nextPrime(p2048 + (1n << 1036n));
    expect(modulusWeakness(p2048 * q1036)).toBeUndefined();
  });

  it('finds a square modulus (p = q) in round 0, which Boulder, starting one above, misses', () => {
    expect(modulusWeakness(p2048 * p2048)).toEqual({ kind: 'close_primes', round: 0 });
  });

  it('finds perfect powers m^k for prime k, small and large', async () => {
    const m1366 = await randomPrime(1366);
    expect(modulusWeakness(m1366 ** 3n)).toEqual({ kind: 'perfect_power', exponent: 3 });
    const m820 = await randomPrime(820);
    expect(modulusWeakness(m820 ** 5n)).toEqual({ kind: 'perfect_power', exponent: 5 });
    // 1009 is prime and above 752; 1009^401 has ~4000 bits.
    expect(modulusWeakness(1009n ** 401n)).toEqual({ kind: 'perfect_power', exponent: 401 });
  });

  it('uses the 17 (r, p) pairs of rocacheck: r is the order of 65537 mod p', () => {
    // The relations table of crocs-muni/roca (pull request 40), as in titanous/rocacheck.
    const published: [number, number][] = [
      [2, 11],
      [6, 13],
      [8, 17],
      [9, 19],
      [3, 37],
      [26, 53],
      [20, 61],
      [35, 71],
      [24, 73],
      [13, 79],
      [6, 97],
      [51, 103],
      [53, 107],
      [54, 109],
      [42, 127],
      [50, 151],
      [78, 157],
    ];
    expect(ROCA_PRIMES.map((p, i) => [rocaGeneratorOrders()[i], p])).toEqual(published);
  });

  it.each([
    [512, 39],
    [1024, 71],
    [2048, 126],
  ])('finds the ROCA fingerprint on a %i-bit modulus of Infineon-structured primes', async (bits, count) => {
    const [p, q] = await Promise.all([rocaPrime(bits / 2, count), rocaPrime(bits / 2, count)]);
    expect(bitLength(p * q)).toBe(bits);
    expect(modulusWeakness(p * q)).toEqual({ kind: 'roca' });
  });

  it('takes integer roots exactly', () => {
    const m = (1n << 1400n) + 12345n;
    expect(iroot(m ** 3n, 3)).toBe(m);
    expect(iroot(m ** 3n - 1n, 3)).toBe(m - 1n);
    expect(iroot(10n ** 40n, 2)).toBe(10n ** 20n);
    expect(iroot(10n ** 40n - 1n, 2)).toBe(10n ** 20n - 1n);
    expect(iroot(7n, 5)).toBe(1n);
  });

  it('never throws on odd inputs', () => {
    for (const n of [0n, 1n, 2n, 3n, 9n, 751n, 757n, 757n * 757n, (1n << 16384n) - 1n]) {
      expect(() => modulusWeakness(n)).not.toThrow();
    }
    expect(modulusWeakness(757n * 757n)).toEqual({ kind: 'close_primes', round: 0 });
  });
});
