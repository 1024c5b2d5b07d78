import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir, tempFile } from '../helpers/fixtures.ts';
import { startWebService, type WebService } from '../helpers/web.ts';
import { PageClient } from '../helpers/web-client.ts';
import { bitLength, csrWithKey, nextPrime, randomPrime, rocaPrime, rsaKey } from '../helpers/weak-keys.ts';

const TAB = '/connectors/weak_conn/versions/1.0';
const CSR = `/api${TAB}/environments/TE1002/csr`;

/**
 * q, a 4095-bit prime with 3·q of 4096 bits: q < 2^4096/3, which OpenSSL's own primes (their top
 * two bits set) never are, so it is the first prime from a random point of [2^4094, 2^4096/3).
 */
async function primeForThreeTimes(): Promise<bigint> {
  const low = 1n << 4094n;
  const span = (1n << 4096n) / 3n - low - (1n << 4000n);
  const q = await nextPrime(low + (BigInt(`0x${randomBytes(512).toString('hex')}`) % span));
  expect(bitLength(q)).toBe(4095);
  return q;
}

// The reproductions and the other weak keys, as suppliers would send them: 4096-bit
// keys built in the test, CSRs signed with them by `openssl req`, uploaded over HTTP.
describe('CSRs with weak RSA keys are refused (HTTP API, the tab, csr check)', () => {
  let web: WebService;
  let token = '';
  const csrs = new Map<string, string>();

  beforeAll(async () => {
    const [service, q, prime, fermatP, rocaP, rocaQ] = await Promise.all([
      startWebService({ CSR_MIN_RSA_BITS: '4096' }),
      primeForThreeTimes(),
      randomPrime(4096),
      randomPrime(2048),
      rocaPrime(2048, 225),
      rocaPrime(2048, 225),
    ]);
    web = service;
    const fermatQ = await nextPrime(fermatP + (1n << 516n));
    const keys = {
      small_factor: rsaKey(3n, q),
      prime: rsaKey(prime, 1n),
      fermat: rsaKey(fermatP, fermatQ),
      roca: rsaKey(rocaP, rocaQ),
    };
    for (const [name, key] of Object.entries(keys)) {
      expect(key.asymmetricKeyDetails?.modulusLength, name).toBe(4096);
      csrs.set(name, await csrWithKey(key, `weak_conn-TE1002-${name}`));
    }
    token = await web.addSupplier('Weak Keys B.V.');
    await web.api(token, 'POST', '/api/connectors', { technicalName: 'weak_conn', name: 'Weak' });
    await web.api(token, 'POST', '/api/connectors/weak_conn/versions', { version: '1.0' });
    await web.api(token, 'POST', '/api/connectors/weak_conn/versions/1.0/environments', {
      customerCode: 'TE1002',
    });
  }, 180_000);

  afterAll(async () => {
    await web?.close();
  });

  it.each([
    ['small_factor', 'key_weak_factor', 'is divisible by 3'],
    ['prime', 'key_prime_modulus', 'is a prime number'],
    ['fermat', 'key_fermat', "Fermat's method factors the modulus in 1 step"],
    ['roca', 'key_roca', 'Infineon'],
  ])(
    '%s: 422 %s on a development line, nothing signed; the tab and csr check say so',
    async (name, code, words) => {
      const csr = csrs.get(name)!;
      const reply = await web.api<{ errors: { code: string; message: string }[] }>(token, 'PUT', CSR, csr);
      expect(reply.status).toBe(422);
      expect(reply.json.errors.map((e) => e.code)).toEqual([code]);
      expect(reply.json.errors[0]!.message).toContain(words);
      expect(reply.json.errors[0]!.message).toMatch(/generate a new (one|key)/);

      const lines = await web.api<{ request?: { state: string }; certificate?: unknown }[]>(
        token,
        'GET',
        '/api/connectors/weak_conn/versions/1.0/environments',
      );
      expect(lines.json[0]?.request?.state).toBe('invalid');
      expect(lines.json[0]?.certificate).toBeUndefined();

      const client = new PageClient(web.url);
      await client.signIn(token);
      const page = await client.get(TAB);
      expect(page.html).toContain(`(${code})`);

      const file = await tempFile(`${name}.csr`, csr);
      const checked = await runCli(['csr', 'check', file, '--json'], { DATA_DIR: await tempDir() });
      expect(checked.code).toBe(1);
      expect(JSON.parse(checked.stdout).errors.map((e: { code: string }) => e.code)).toEqual([code]);
    },
  );
});
