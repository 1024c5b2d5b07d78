import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { openssl, tempDir } from '../helpers/fixtures.ts';

/** Runs `ons-certs ca init ...` with only the configuration variables given here set. */
function caInit(args: string[], env: Record<string, string>): Promise<CliResult> {
  return runCli(['ca', 'init', ...args], env);
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;
const fingerprint = async (path: string) => new X509Certificate(await readFile(path)).fingerprint256;
const DAY = 24 * 60 * 60 * 1000;

describe('ons-certs ca init', () => {
  it(
    'creates an RSA-4096 CA for ten years in DATA_DIR/ca, refuses to overwrite it, replaces it with --force',
    { timeout: 60_000 },
    async () => {
      const dataDir = await tempDir();
      const certPath = join(dataDir, 'ca', 'ca.pem');
      const keyPath = join(dataDir, 'ca', 'ca.key');

      const created = await caInit([], { DATA_DIR: dataDir });
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toContain(certPath);
      expect(created.stdout).toContain(keyPath);
      expect(await mode(keyPath)).toBe(0o600);
      expect(await mode(join(dataDir, 'ca'))).toBe(0o700);
      expect(await readFile(keyPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

      const text = await openssl(['x509', '-in', certPath, '-noout', '-text']);
      expect(text.code).toBe(0);
      expect(text.output).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
      expect(text.output).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\s/);
      expect(text.output).toContain('Public-Key: (4096 bit)');
      expect(text.output).toContain('Signature Algorithm: sha256WithRSAEncryption');
      const current = await openssl(['x509', '-in', certPath, '-noout', '-checkend', '0']);
      expect(current.code, 'the CA is valid now').toBe(0);

      const certificate = new X509Certificate(await readFile(certPath));
      const notBefore = new Date(certificate.validFrom).getTime();
      const notAfter = new Date(certificate.validTo).getTime();
      expect(Math.abs(notBefore - Date.now())).toBeLessThan(5 * 60 * 1000);
      expect((notAfter - notBefore) / DAY).toBeGreaterThanOrEqual(3651);
      expect((notAfter - notBefore) / DAY).toBeLessThanOrEqual(3654);

      const before = { cert: await readFile(certPath), key: await readFile(keyPath) };
      const again = await caInit([], { DATA_DIR: dataDir });
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already exists: use --force/);
      expect((await readFile(certPath)).equals(before.cert)).toBe(true);
      expect((await readFile(keyPath)).equals(before.key)).toBe(true);

      const forced = await caInit(['--force'], { DATA_DIR: dataDir });
      expect(forced.code, forced.stderr).toBe(0);
      expect(await fingerprint(certPath)).not.toBe(certificate.fingerprint256);
      expect((await readFile(keyPath)).equals(before.key)).toBe(false);
      expect(await mode(keyPath)).toBe(0o600);
      const pair = await Promise.all([
        openssl(['x509', '-in', certPath, '-noout', '-pubkey']),
        openssl(['pkey', '-in', keyPath, '-pubout']),
      ]);
      expect(pair[0].output).toBe(pair[1].output);
    },
  );

  it(
    'writes to CA_CERT_PATH and CA_KEY_PATH, encrypting the key with CA_KEY_PASSPHRASE',
    { timeout: 60_000 },
    async () => {
      const dataDir = await tempDir();
      const elsewhere = await tempDir();
      const certPath = join(elsewhere, 'public', 'client-ca.pem');
      const keyPath = join(elsewhere, 'secret', 'client-ca.key');
      const passphrase = 'a long passphrase for the tests';

      const result = await caInit([], {
        DATA_DIR: dataDir,
        CA_CERT_PATH: certPath,
        CA_KEY_PATH: keyPath,
        CA_KEY_PASSPHRASE: passphrase,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toContain(passphrase);
      expect(existsSync(join(dataDir, 'ca'))).toBe(false);
      expect(await mode(keyPath)).toBe(0o600);

      const keyPem = await readFile(keyPath, 'utf8');
      expect(keyPem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
      expect((await openssl(['pkey', '-in', keyPath, '-passin', 'pass:wrong', '-noout'])).code).not.toBe(0);
      const opened = await openssl(['pkey', '-in', keyPath, '-passin', `pass:${passphrase}`, '-pubout']);
      expect(opened.code).toBe(0);
      const fromCert = await openssl(['x509', '-in', certPath, '-noout', '-pubkey']);
      expect(opened.output).toBe(fromCert.output);
      expect((await openssl(['x509', '-in', certPath, '-noout', '-text'])).output).toContain(
        'Public-Key: (4096 bit)',
      );
    },
  );
});
