import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaError, loadCertificateAuthority, type CaFiles } from '../../src/ca/certificate-authority.ts';
import { CA_DIR, openssl, tempDir } from '../helpers/fixtures.ts';

const fixture = (name: string) => join(CA_DIR, name);

async function loadError(files: CaFiles, now?: Date): Promise<string> {
  const error = await loadCertificateAuthority(files, now).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CaError);
  return (error as Error).message;
}

describe('loading the CA', () => {
  it('loads a CA certificate and key, with the subject key identifier OpenSSL shows', async () => {
    const ca = await loadCertificateAuthority({ certPath: fixture('ca.pem'), keyPath: fixture('ca.key') });
    const text = (await openssl(['x509', '-noout', '-ext', 'subjectKeyIdentifier', '-in', fixture('ca.pem')]))
      .output;
    const ski = text
      .match(/([0-9A-F]{2}(:[0-9A-F]{2})+)/)?.[1]
      ?.replace(/:/g, '')
      .toLowerCase();
    expect(ca.keyIdentifier.toString('hex')).toBe(ski);
    expect(ca.certificate.subject).toBe('CN=ons-certs test CA\nO=ons-certs tests');
    expect(ca.chainPem).toBe(await readFile(fixture('ca.pem'), 'utf8'));
  });

  it('opens an encrypted PKCS#8 key with CA_KEY_PASSPHRASE', async () => {
    const files = { certPath: fixture('ca.pem'), keyPath: fixture('ca-encrypted.key') };
    const ca = await loadCertificateAuthority({ ...files, passphrase: 'test-passphrase' });
    expect(ca.privateKey.asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect(await loadError(files)).toMatch(/is encrypted: set CA_KEY_PASSPHRASE/);
    expect(await loadError({ ...files, passphrase: 'wrong' })).toMatch(/CA_KEY_PASSPHRASE does not decrypt/);
  });

  it('says what is wrong with a CA it cannot use', async () => {
    expect(await loadError({ certPath: fixture('ca.pem'), keyPath: fixture('other-ca.key') })).toMatch(
      /does not belong to the certificate/,
    );
    expect(await loadError({ certPath: fixture('not-a-ca.pem'), keyPath: fixture('not-a-ca.key') })).toMatch(
      /is not a CA certificate/,
    );
    expect(await loadError({ certPath: fixture('missing.pem'), keyPath: fixture('ca.key') })).toMatch(
      /cannot read the CA certificate .*missing\.pem: ENOENT/,
    );
    expect(await loadError({ certPath: fixture('ca.key'), keyPath: fixture('ca.key') })).toMatch(
      /holds no PEM CERTIFICATE/,
    );
    expect(await loadError({ certPath: fixture('ca.pem'), keyPath: fixture('ca.pem') })).toMatch(
      /is not a PEM private key/,
    );
    expect(
      await loadError(
        { certPath: fixture('ca.pem'), keyPath: fixture('ca.key') },
        new Date('2099-01-01T00:00:00Z'),
      ),
    ).toMatch(/expired on/);
  });

  it('serves the whole chain when the certificate file holds one, signing with the first', async () => {
    const dir = await tempDir();
    const chain = join(dir, 'chain.pem');
    const first = await readFile(fixture('ca.pem'), 'utf8');
    const second = await readFile(fixture('other-ca.pem'), 'utf8');
    await writeFile(chain, first + second);
    const ca = await loadCertificateAuthority({ certPath: chain, keyPath: fixture('ca.key') });
    expect(ca.chainPem).toBe(first + second);
    expect(ca.certificate.subject).toContain('ons-certs test CA');
  });
});
