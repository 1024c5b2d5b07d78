import { checkPrime, createPrivateKey, generatePrime, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './fixtures.ts';
import { makeCsrForKey } from './services.ts';

/**
 * RSA keys built by hand, weak on purpose: a modulus with a small factor, a prime modulus, close
 * primes, Infineon's (ROCA) structure. Each is a working key: OpenSSL signs a CSR with it.
 */

export const E = 65537n;

function base64url(v: bigint): string {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
}

export function modPow(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  let b = base % m;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

export function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new Error('not invertible');
  return ((s0 % m) + m) % m;
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

export const bitLength = (v: bigint) => v.toString(2).length;

/**
 * The private key with modulus p·q, d from the right totient: q = 1n makes the modulus the
 * prime p (φ = p - 1; OpenSSL's CRT then works modulo p alone).
 */
export function rsaKey(p: bigint, q: bigint): KeyObject {
  const lambda = q === 1n ? p - 1n : ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  const d = modInverse(E, lambda);
  const jwk = {
    kty: 'RSA',
    n: base64url(p * q),
    e: base64url(E),
    d: base64url(d),
    p: base64url(p),
    q: base64url(q),
    dp: base64url(d % (p - 1n)),
    dq: base64url(q === 1n ? 0n : d % (q - 1n)),
    qi: base64url(q === 1n ? 1n : modInverse(q % p, p)),
  };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

export const modulusOf = (key: KeyObject): bigint =>
  BigInt(`0x${Buffer.from(key.export({ format: 'jwk' }).n!, 'base64url').toString('hex')}`);

/** A real CSR, signed by `openssl req` with the key. */
export async function csrWithKey(key: KeyObject, commonName: string): Promise<string> {
  const keyPath = join(await tempDir('ons-certs-weak-'), 'weak.key');
  await writeFile(keyPath, key.export({ format: 'pem', type: 'pkcs8' }));
  return makeCsrForKey(commonName, keyPath);
}

export const randomPrime = (bits: number): Promise<bigint> =>
  new Promise((resolve, reject) =>
    generatePrime(bits, { bigint: true }, (error, prime) =>
      error ? reject(error) : resolve(prime as bigint),
    ),
  );

export const isPrime = (n: bigint): Promise<boolean> =>
  new Promise((resolve, reject) => checkPrime(n, (error, prime) => (error ? reject(error) : resolve(prime))));

const SIEVE = Array.from({ length: 1500 }, (_, i) => i).filter(
  (k) => k > 2 && Array.from({ length: k - 2 }, (_, j) => j + 2).every((d) => d * d > k || k % d !== 0),
);

/** The first prime >= start with gcd(p - 1, 65537) = 1 (so that d exists). */
export async function nextPrime(start: bigint): Promise<bigint> {
  for (let c = start | 1n; ; c += 2n) {
    if (SIEVE.some((p) => c % BigInt(p) === 0n)) continue;
    if ((c - 1n) % E !== 0n && (await isPrime(c))) return c;
  }
}

/** The product of the first `count` primes (the ROCA paper's M). */
export function primorial(count: number): bigint {
  const primes = [2, ...SIEVE];
  let m = 1n;
  for (let i = 0; i < count; i++) m *= BigInt(primes[i]!);
  return m;
}

/**
 * A prime of `bits` bits built as Infineon's library built them (ROCA): p = k·M + (65537^a mod M)
 * for random k and a, M the primorial of the first `count` primes (39 for 512-bit keys, 71 for
 * 1024, 126 for 2048, 225 for 4096 in the paper). Its top bits are set so that two make a
 * modulus of 2·bits bits.
 */
export async function rocaPrime(bits: number, count: number): Promise<bigint> {
  const m = primorial(count);
  const low = (3n << BigInt(bits - 2)) / m + 1n; // >= 0.75·2^bits: the product keeps 2·bits bits
  const high = (1n << BigInt(bits)) / m;
  const span = high - low;
  for (;;) {
    const k =
      low + (BigInt(`0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`) % span);
    const a = BigInt(Math.floor(Math.random() * 2 ** 32));
    const p = k * m + modPow(E, a, m);
    if (bitLength(p) === bits && (p - 1n) % E !== 0n && (await isPrime(p))) return p;
  }
}
