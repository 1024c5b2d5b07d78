import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BENCH_DIR } from './support.ts';

const run = promisify(execFile);
const SUBJECT_REST =
  '/OU=Integrations/O=Example Software B.V./L=Enschede/ST=Overijssel/C=NL/emailAddress=pki@example.com';

/**
 * `count` OpenSSL-made CSRs with distinct keys of `bits` (every upload needs a new key), kept in
 * bench/.cache so later runs start at once. The upload benchmark uses RSA-4096, what suppliers
 * send in production (the key's checks cost more for a bigger key); the first run makes them
 * (about a second of CPU each).
 */
export async function csrPool(commonName: string, count: number, bits = 4096): Promise<string[]> {
  const dir = join(BENCH_DIR, '.cache', `csr-${commonName}${bits === 2048 ? '' : `-rsa${bits}`}`);
  await mkdir(dir, { recursive: true });
  const have = (await readdir(dir)).filter((f) => f.endsWith('.csr')).length;
  const missing = Array.from({ length: Math.max(0, count - have) }, (_, i) => have + i);
  const parallel = availableParallelism();
  for (let i = 0; i < missing.length; i += parallel) {
    await Promise.all(
      missing
        .slice(i, i + parallel)
        .map((n) =>
          run('openssl', [
            'req',
            '-new',
            '-newkey',
            `rsa:${bits}`,
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
