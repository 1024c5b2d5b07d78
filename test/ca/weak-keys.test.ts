import { checkPrime, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withPrimalityTest } from '../../src/ca/key-primality.ts';
import { parseCsr } from '../../src/ca/parse-csr.ts';
import { judgeCsr } from '../../src/core/csr-policy.ts';
import { modulusWeakness } from '../../src/core/rsa-key-strength.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { bitLength, csrWithKey, modulusOf, randomPrime, rsaKey } from '../helpers/weak-keys.ts';

const line = { minRsaBits: 2048, connector: 'hr_integration', customerCode: 'TE1002' };
const CN = 'hr_integration-TE1002-weak';

const publicKey = (bits: number) =>
  new Promise<KeyObject>((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: bits }, (error, key) => (error ? reject(error) : resolve(key))),
  );

describe('the weak-key checks on real keys', () => {
  it('accept 100 RSA-4096 keys made by `openssl genrsa`, and 8 made now (cheap checks and primality)', async () => {
    // test/fixtures/keys/make.sh wrote the 100 (making them takes minutes on two cores).
    const pem = await readFile(join(ROOT, 'test/fixtures/keys/rsa-4096-public.pem'), 'utf8');
    const committed = [...pem.matchAll(/-----BEGIN PUBLIC KEY-----[^-]+-----END PUBLIC KEY-----/g)].map((m) =>
      createPublicKey(m[0]),
    );
    const started = performance.now();
    const fresh = await Promise.all(Array.from({ length: 8 }, () => publicKey(4096)));
    const made = performance.now();
    const moduli = [...committed, ...fresh].map(modulusOf);
    expect(moduli.every((n) => bitLength(n) === 4096)).toBe(true);
    expect(new Set(moduli.map(String)).size).toBe(108);
    expect(moduli.map((n) => modulusWeakness(n))).toEqual(Array(108).fill(undefined));
    // The primality test as an upload runs it: on the thread pool, one Miller-Rabin round each.
    const primes = await Promise.all(
      moduli.map((n) => new Promise((ok, ko) => checkPrime(n, { checks: 1 }, (e, p) => (e ? ko(e) : ok(p))))),
    );
    expect(primes).toEqual(Array(108).fill(false));
    const seconds = (from: number, to: number) => ((to - from) / 1000).toFixed(1);
    console.log(
      `8 RSA-4096 keys made in ${seconds(started, made)} s; 108 checked in ${seconds(made, performance.now())} s`,
    );
  });

  it('refuse a CSR whose modulus is prime once its primality was tested, and only then', async () => {
    const p = await randomPrime(2048);
    const parsed = parseCsr(await csrWithKey(rsaKey(p, 1n), CN));
    expect(parsed.ok && parsed.facts.signatureValid).toBe(true);
    // The cheap checks cannot tell a prime from a product of two primes.
    expect(judgeCsr(parsed, line).ok).toBe(true);
    const tested = await withPrimalityTest(parsed);
    expect(tested.ok && tested.facts.publicKey.modulusPrime).toBe(true);
    const verdict = judgeCsr(tested, line);
    expect(verdict.violations.map((v) => v.code)).toEqual(['key_prime_modulus']);
    expect(verdict.violations[0]!.message).toMatch(/^the key's modulus is a prime number/);
    expect(verdict.violations[0]!.message).toContain(
      'generate a new one with OpenSSL on a machine you trust',
    );
  });

  it('test the primality of an ordinary key as composite, and skip it where the CSR is refused anyway', async () => {
    const [a, b] = await Promise.all([randomPrime(1024), randomPrime(1024)]);
    const sound = await withPrimalityTest(parseCsr(await csrWithKey(rsaKey(a, b), CN)));
    expect(sound.ok && sound.facts.publicKey.modulusPrime).toBe(false);
    expect(judgeCsr(sound, line).ok).toBe(true);

    const small = await withPrimalityTest(parseCsr(await csrWithKey(rsaKey(3n, a), CN)));
    expect(small.ok && small.facts.publicKey.modulusPrime).toBeUndefined(); // the cheap checks found it
    expect(judgeCsr(small, line).violations.map((v) => v.code)).toContain('key_weak_factor');
  });
});
