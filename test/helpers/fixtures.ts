import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadCertificateAuthority, type CertificateAuthority } from '../../src/ca/certificate-authority.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CSR_DIR = join(ROOT, 'test/fixtures/csr');
export const CA_DIR = join(ROOT, 'test/fixtures/ca');

export const csrPath = (name: string) => join(CSR_DIR, name);
export const readCsr = (name: string) => readFile(csrPath(name));

/** The committed RSA-4096 test CA. */
export function loadTestCa(): Promise<CertificateAuthority> {
  return loadCertificateAuthority({ certPath: join(CA_DIR, 'ca.pem'), keyPath: join(CA_DIR, 'ca.key') });
}

export const run = promisify(execFile);

/** Runs openssl; resolves with stdout+stderr and the exit code, never rejects on a non-zero exit. */
export async function openssl(args: string[], input?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: stdout + stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

const madeDirs: string[] = [];

/**
 * Removes the temporary directories made so far (keys, CSRs, data directories): test/setup.ts
 * calls it after each test file, once the file's own afterAll hooks have stopped its services.
 */
export function removeTempDirs(): void {
  for (const dir of madeDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A temporary directory, removed after the test file (see removeTempDirs). */
export async function tempDir(prefix = 'ons-certs-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** Writes text to a new temporary file and returns its path. */
export async function tempFile(name: string, content: string | Buffer): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, content);
  return path;
}

export const secureRandom = (size: number) => randomBytes(size);
