import { checkPrimeSync, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { modulusWeakness } from '../src/core/rsa-key-strength.ts';
import { opensslRsa4096SignsPerSecond } from './openssl-speed.ts';
import { FIXTURES, repeatFor } from './support.ts';

const TARGET = 0.25;

/** 20 RSA-4096 public keys made by `openssl genrsa` (test/fixtures/keys/make.sh), reused in turn. */
async function opensslKeys(): Promise<KeyObject[]> {
  const pem = await readFile(`${FIXTURES}/../keys/rsa-4096-public.pem`, 'utf8');
  const blocks = pem.match(/-----BEGIN PUBLIC KEY-----[^-]+-----END PUBLIC KEY-----/g) ?? [];
  return blocks.slice(0, 20).map((block) => createPublicKey(block));
}

/** What an upload adds for the weak-key checks, per CSR, as the upload path runs it. */
function cheapChecks(key: KeyObject): bigint {
  // parse-csr.ts: the modulus out of the key (a JWK export).
  const n = BigInt(`0x${Buffer.from(key.export({ format: 'jwk' }).n!, 'base64url').toString('hex')}`);
  // key-primality.ts looks before it tests, and the policy looks again: two runs.
  if (modulusWeakness(n) || modulusWeakness(n)) throw new Error('an OpenSSL-made key was found weak');
  return n;
}

/**
 * `keys.checks`: the weak-key checks' cost per CSR as a share of one RSA-4096 signature, in the
 * same run, over real OpenSSL-made keys; with and without the primality test (target <= 0.25).
 */
export async function runKeyStrengthBenchmark(): Promise<string[]> {
  const keys = await opensslKeys();
  if (keys.length < 20) throw new Error('test/fixtures/keys/rsa-4096-public.pem holds fewer than 20 keys');
  const signer = generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey;
  const data = Buffer.alloc(1000, 1);

  let openssl = 0;
  let nodeSign = 0;
  let cheap = 0;
  let all = 0;
  // Best of three alternating rounds, each side on one core (other tenants slow either at random).
  for (let round = 0; round < 3; round++) {
    openssl = Math.max(openssl, await opensslRsa4096SignsPerSecond(2));
    nodeSign = Math.max(
      nodeSign,
      repeatFor(1, () => sign('sha256', data, signer)),
    );
    let i = 0;
    cheap = Math.max(
      cheap,
      repeatFor(1, () => cheapChecks(keys[i++ % keys.length]!)),
    );
    let j = 0;
    all = Math.max(
      all,
      repeatFor(2, () => {
        const n = cheapChecks(keys[j++ % keys.length]!);
        // What withPrimalityTest runs on the pool (checks: 1; a composite fails the first round).
        if (checkPrimeSync(n, { checks: 1 })) throw new Error('an OpenSSL-made modulus was found prime');
      }),
    );
  }
  const signature = 1 / openssl;
  const line = (name: string, perSecond: number, what: string) => {
    const ratio = 1 / perSecond / signature;
    const verdict = ratio <= TARGET ? 'met' : 'MISSED';
    return (
      `${name}: ratio ${ratio.toFixed(3)} of one RSA-4096 signature (target <= ${TARGET}: ${verdict}); ` +
      `${((1 / perSecond) * 1000).toFixed(3)} ms per CSR, ${what}`
    );
  };
  return [
    line('keys.checks', all, 'all weak-key checks (modulus, small factors, ROCA, Fermat, powers, primality)'),
    line('keys.checks-but-primality', cheap, 'all but the primality test'),
    `  details: openssl speed rsa4096 ${openssl.toFixed(1)} sign/s, node:crypto sign ${nodeSign.toFixed(1)}/s ` +
      `(1 core, best of 3 rounds); 20 OpenSSL-made RSA-4096 keys in turn; the primality test is one ` +
      'Miller-Rabin round, a full 4096-bit exponentiation, run on the thread pool by an upload',
  ];
}
