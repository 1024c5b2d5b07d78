import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { csrPath, openssl, tempDir } from '../helpers/fixtures.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});

const check = (file: string) =>
  runCli(['csr', 'check', file, '--connector', 'hr_integration', '--customer-code', 'TE1002'], {
    DATA_DIR: dir,
  });

describe('ons-certs csr check reads files as the API does', () => {
  it('a DER CSR and a UTF-16 LE file with BOM (as PowerShell writes it) meet the requirements', async () => {
    const der = join(dir, 'client.der');
    expect(
      (await openssl(['req', '-in', csrPath('valid-development.csr'), '-outform', 'DER', '-out', der])).code,
    ).toBe(0);
    const utf16 = join(dir, 'client-utf16.csr');
    const text = (await readFile(csrPath('valid-development.csr'), 'utf8')).replace(/\n/g, '\r\n');
    await writeFile(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    for (const file of [der, utf16]) {
      const result = await check(file);
      expect({ file, code: result.code }).toEqual({ file, code: 0 });
      expect(result.stdout).toContain(
        'subject:            CN=hr_integration-TE1002-free_text, OU=Integrations',
      );
    }
  });

  it('a DER private key gets the leaked-key warning; binary data says what it looks like', async () => {
    const key = join(dir, 'key.der');
    expect(
      (await openssl(['pkey', '-in', csrPath('valid-development.key'), '-outform', 'DER', '-out', key])).code,
    ).toBe(0);
    const keyResult = await check(key);
    expect(keyResult.code).toBe(1);
    expect(keyResult.stdout).toMatch(
      /malformed_csr: the file contains a PRIVATE KEY: never send your private key/,
    );
    const word = join(dir, 'request.doc');
    await writeFile(word, Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(100, 1)]));
    const wordResult = await check(word);
    expect(wordResult.code).toBe(1);
    expect(wordResult.stdout).toMatch(/malformed_csr: this looks like a Word document/);
  });
});
