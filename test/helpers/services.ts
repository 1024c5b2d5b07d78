import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { createLogger } from '../../src/log.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { loadTestCa, openssl, tempDir } from './fixtures.ts';

/** A service context on `handle` with the test CA, a silent log and an adjustable clock. */
export async function testContext(
  handle: DatabaseHandle,
  options: { now?: () => Date; minRsaBits?: number } = {},
): Promise<ServiceContext> {
  return {
    db: handle.db,
    ca: await loadTestCa(),
    log: createLogger('silent'),
    now: options.now ?? (() => new Date()),
    randomBytes,
    minRsaBits: options.minRsaBits ?? 4096,
    crlDistributionPoint: 'http://localhost:3000/crl',
  };
}

export interface MadeCsr {
  csr: string;
  key: string;
  csrPath: string;
  keyPath: string;
}

const SUBJECT_REST =
  '/OU=Integrations/O=Example Software B.V./L=Enschede/ST=Overijssel/C=NL/emailAddress=pki@example.com';

/**
 * A fresh key and CSR made by the openssl command line. 2048-bit keys are quick to make;
 * tests that use them set minRsaBits to 2048 (the policy's setting for the older rule).
 */
export async function makeCsr(commonName: string, bits: 2048 | 4096 = 2048): Promise<MadeCsr> {
  const dir = await tempDir('ons-certs-csr-');
  const csrPath = join(dir, 'client.csr');
  const keyPath = join(dir, 'client.key');
  const made = await openssl([
    'req',
    '-new',
    '-newkey',
    `rsa:${bits}`,
    '-sha256',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    csrPath,
    '-subj',
    `/CN=${commonName}${SUBJECT_REST}`,
  ]);
  if (made.code !== 0) throw new Error(`openssl req failed: ${made.output}`);
  return { csr: await readFile(csrPath, 'utf8'), key: await readFile(keyPath, 'utf8'), csrPath, keyPath };
}

/** A CSR for an existing key (to try the same key again). */
export async function makeCsrForKey(commonName: string, keyPath: string): Promise<string> {
  const dir = await tempDir('ons-certs-csr-');
  const csrPath = join(dir, 'again.csr');
  const made = await openssl([
    'req',
    '-new',
    '-sha256',
    '-key',
    keyPath,
    '-out',
    csrPath,
    '-subj',
    `/CN=${commonName}${SUBJECT_REST}`,
  ]);
  if (made.code !== 0) throw new Error(`openssl req failed: ${made.output}`);
  return readFile(csrPath, 'utf8');
}

export async function writeTemp(name: string, content: string): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, content);
  return path;
}
