import { createHash, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { csrPath, openssl, tempDir } from '../helpers/fixtures.ts';

let dataDir: string;
beforeAll(async () => {
  dataDir = await tempDir();
});

/** Runs `ons-certs csr check ...` as a user would, with only the variables given here set. */
function check(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['csr', 'check', ...args], { DATA_DIR: dataDir, ...env });
}

const codesOf = (json: { errors: { code: string }[] }) => json.errors.map((e) => e.code);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('ons-certs csr check', () => {
  it('accepts a valid CSR for its connector and a lower-case customer code', async () => {
    const file = csrPath('valid-development.csr');
    const result = await check([file, '--connector', 'hr_integration', '--customer-code', 'te1002']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${file}: meets the Ons API requirements`);
    expect(result.stdout).toContain('CN=hr_integration-TE1002-free_text');
    expect(result.stdout).toContain('RSA 4096 bits');
    expect(result.stdout).toContain('sha256WithRSAEncryption');
    expect(result.stdout).toMatch(/CSR SHA-256: +[0-9a-f]{64}/);
    expect(result.stdout).toMatch(/public key SHA-256: +[0-9a-f]{64}/);
  });

  it('lists every violation of a CSR in one run and exits 1', async () => {
    const result = await check([csrPath('many-violations.csr')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('6 problems to fix');
    for (const code of [
      'weak_signature_hash',
      'key_too_small',
      'key_exponent',
      'subject_missing_field',
      'subject_invalid_field',
      'cn_format',
    ]) {
      expect(result.stdout).toContain(`  - ${code}: `);
    }
    expect(result.stdout).toMatch(/subject_missing_field: .*\bOU\b/);
    expect(result.stdout).toMatch(/subject_invalid_field: .*\bC\b/);
    expect(result.stdout).not.toMatch(/cn_connector_mismatch|cn_customer_code_mismatch/);
  });

  it('prints the documented JSON with fingerprints of the CSR and its public key', async () => {
    const file = csrPath('valid-development.csr');
    const result = await check([file, '--json']);
    expect(result.code).toBe(0);
    const derFile = join(await tempDir(), 'csr.der');
    expect((await openssl(['req', '-in', file, '-outform', 'DER', '-out', derFile])).code).toBe(0);
    const publicKey = await openssl(['req', '-in', file, '-pubkey', '-noout']);
    expect(publicKey.code).toBe(0);
    const spki = createPublicKey(publicKey.output).export({ type: 'spki', format: 'der' });
    expect(JSON.parse(result.stdout)).toStrictEqual({
      ok: true,
      errors: [],
      subject: {
        CN: 'hr_integration-TE1002-free_text',
        OU: 'Integrations',
        O: 'Example Software B.V.',
        L: 'Enschede',
        ST: 'Overijssel',
        C: 'NL',
        emailAddress: 'pki@example.com',
      },
      keyBits: 4096,
      fingerprintSha256: sha256(await readFile(derFile)),
      publicKeySha256: sha256(spki),
    });
  });

  it('reports content that is not a CSR as malformed_csr, without the fields it could not read', async () => {
    const result = await check([csrPath('garbage.csr'), '--json']);
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(['errors', 'ok']);
    expect(json).toStrictEqual({
      ok: false,
      errors: [{ code: 'malformed_csr', message: expect.any(String) }],
    });
  });

  it('checks only the form of the CN without --connector, the connector with it', async () => {
    const file = csrPath('cn-other-connector.csr');
    const formOnly = await check([file, '--json']);
    expect(formOnly.code).toBe(0);
    expect(JSON.parse(formOnly.stdout)).toMatchObject({ ok: true, errors: [] });

    const withConnector = await check([file, '--connector', 'hr_integration', '--json']);
    expect(withConnector.code).toBe(1);
    expect(codesOf(JSON.parse(withConnector.stdout))).toEqual(['cn_connector_mismatch']);
  });

  it('refuses an oversized file as malformed_csr and says how large it is', async () => {
    const result = await check([csrPath('oversized.csr')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/malformed_csr: .*80 KiB/);
  });

  it.each([
    ['a file that does not exist', [csrPath('does-not-exist.csr')], /cannot read .*does-not-exist\.csr/],
    ['no file argument', [], /exactly one file/],
    ['an unknown option', [csrPath('valid-development.csr'), '--bogus'], /--bogus/],
    [
      'an invalid customer code',
      [csrPath('valid-development.csr'), '--customer-code', 'XX12'],
      /--customer-code: "XX12" is not a customer code/,
    ],
  ])('exits 2 for %s', async (_name, args, message) => {
    const result = await check(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  it('honours CSR_MIN_RSA_BITS from the environment', async () => {
    const file = csrPath('key-2048.csr');
    const strict = await check([file, '--json']);
    expect(codesOf(JSON.parse(strict.stdout))).toContain('key_too_small');

    const lenient = await check([file, '--json'], { CSR_MIN_RSA_BITS: '2048' });
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.stdout)).toMatchObject({ ok: true, errors: [], keyBits: 2048 });
  });

  it('exits 2 naming CSR_MIN_RSA_BITS when it is not a number', async () => {
    const result = await check([csrPath('key-2048.csr')], { CSR_MIN_RSA_BITS: 'abc' });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('CSR_MIN_RSA_BITS');
  });
});
