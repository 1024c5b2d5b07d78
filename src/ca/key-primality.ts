import { checkPrime } from 'node:crypto';
import { MAX_RSA_BITS } from '../core/csr-policy.ts';
import { modulusWeakness } from '../core/rsa-key-strength.ts';
import type { ParsedCsr } from './parse-csr.ts';

/** How many moduli found prime are remembered (a few hundred KiB at 4096 bits). */
const REMEMBERED_PRIMES = 1000;
const primes = new Set<bigint>();

/**
 * The CSR with its RSA modulus tested for primality (`facts.publicKey.modulusPrime`), so that
 * the policy refuses a prime modulus (`key_prime_modulus`): its private key follows from the
 * certificate. The test is a Miller-Rabin round by OpenSSL, a full 4096-bit modular
 * exponentiation (~14 ms, about three RSA-4096 signatures), so it runs on libuv's thread pool.
 *
 * No cheaper sound test is known: telling a prime from a product of two unknown primes takes a
 * witness of compositeness, and short of a factor (what the cheap checks look for) that is a
 * full-size exponentiation. So the test is skipped only where the CSR is refused anyway: an
 * unverified signature, an exponent other than 65537, a key over MAX_RSA_BITS, or a weakness
 * the cheap checks of core/rsa-key-strength.ts found.
 *
 * OpenSSL runs at least 128 rounds before it calls a 4096-bit number prime (its minimum,
 * whatever `checks` asks), so a prime modulus costs ~1.8 s of one pool thread, a composite
 * one a single round. Moduli found prime are remembered, so that the same one sent again costs
 * nothing: an attacker must make a new prime each time, which costs more than it costs us.
 */
export async function withPrimalityTest(parsed: ParsedCsr): Promise<ParsedCsr> {
  if (!parsed.ok) return parsed;
  const { facts } = parsed;
  const key = facts.publicKey;
  if (key.type !== 'rsa' || key.modulus === undefined || key.exponent !== 65537n) return parsed;
  if ((key.bits ?? Infinity) > MAX_RSA_BITS) return parsed;
  if (!facts.signatureValid || modulusWeakness(key.modulus)) return parsed;
  const modulusPrime = primes.has(key.modulus) || (await isProbablePrime(key.modulus));
  if (modulusPrime) remember(key.modulus);
  return { ...parsed, facts: { ...facts, publicKey: { ...key, modulusPrime } } };
}

function isProbablePrime(candidate: bigint): Promise<boolean> {
  // A prime passes every round; one is enough to catch a composite, which is all we need.
  return new Promise((resolve, reject) =>
    checkPrime(candidate, { checks: 1 }, (error, prime) => (error ? reject(error) : resolve(prime))),
  );
}

function remember(modulus: bigint): void {
  primes.delete(modulus);
  primes.add(modulus);
  // A Set iterates in insertion order: the first is the one least recently seen.
  if (primes.size > REMEMBERED_PRIMES) primes.delete(primes.values().next().value!);
}
