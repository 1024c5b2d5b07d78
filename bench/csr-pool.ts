import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BENCH_DIR } from './support.ts';

const run = promisify(execFile);
const SUBJECT_REST =
  '/OU=Integrations/O=Example Software B.V./L=Enschede/ST=Overijssel/C=NL/emailAddress=pki@example.com';

/**
 * `count` OpenSSL-made CSRs with distinct 2048-bit keys (every upload needs a new key), kept in
 * bench/.cache so later runs start at once. 2048 bits keeps making them quick; the CA's own key,
 * whose signature is what issuing costs, is RSA-4096 either way.
 */
export async function csrPool(commonName: string, count: number): Promise<string[]> {
  const dir = join(BENCH_DIR, '.cache', `csr-${commonName}`);
  await mkdir(dir, { recursive: true });
  const have = (await readdir(dir)).filter((f) => f.endsWith('.csr')).length;
  const missing = Array.from({ length: Math.max(0, count - have) }, (_, i) => have + i);
  for (let i = 0; i < missing.length; i += 8) {
    await Promise.all(
      missing
        .slice(i, i + 8)
        .map((n) =>
          run('openssl', [
            'req',
            '-new',
            '-newkey',
            'rsa:2048',
            '-sha256',
            '-nodes',
            '-keyout',
            '/dev/null',
            '-out',
            join(dir, `${String(n).padStart(5, '0')}.csr`),
            '-subj',
            `/CN=${commonName}${SUBJECT_REST}`,
          ]),
        ),
    );
  }
  const files = (await readdir(dir))
    .filter((f) => f.endsWith('.csr'))
    .sort()
    .slice(0, count);
  return Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')));
}
