import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  acquireLock,
  FilesError,
  installPair,
  lockPath,
  recoverPair,
  type PairPaths,
} from '../../src/renewal/write-pair.ts';
import { issueClient, snapshot } from '../helpers/renewal.ts';

/** The current pair and a new one (another key and certificate from the test CA). */
async function twoPairs() {
  const current = await issueClient();
  const next = await issueClient();
  const paths: PairPaths = { cert: current.cert, key: current.key };
  const pem = { cert: await readFile(next.cert, 'utf8'), key: await readFile(next.key, 'utf8') };
  const old = { cert: await readFile(current.cert, 'utf8'), key: await readFile(current.key, 'utf8') };
  return { dir: current.dir, paths, pem, old };
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;
const pairMatches = async (paths: PairPaths) =>
  new X509Certificate(await readFile(paths.cert)).checkPrivateKey(
    createPrivateKey(await readFile(paths.key)),
  );

describe('installPair', () => {
  it('installs the new pair, keeps the old one as .previous, the key 0600, and leaves nothing else', async () => {
    const { dir, paths, pem, old } = await twoPairs();
    await writeFile(paths.cert, old.cert, { mode: 0o644 });
    await installPair(paths, pem);
    expect(await readFile(paths.cert, 'utf8')).toBe(pem.cert);
    expect(await readFile(paths.key, 'utf8')).toBe(pem.key);
    expect(await readFile(`${paths.cert}.previous`, 'utf8')).toBe(old.cert);
    expect(await readFile(`${paths.key}.previous`, 'utf8')).toBe(old.key);
    expect(await mode(paths.key)).toBe(0o600);
    expect(await mode(`${paths.key}.previous`)).toBe(0o600);
    expect(Object.keys(await snapshot(dir))).toStrictEqual([
      'client.key',
      'client.key.previous',
      'client.pem',
      'client.pem.previous',
    ]);
  });

  it('creates the key 0600 even under a permissive umask (never readable by others, not even briefly)', async () => {
    const { paths, pem } = await twoPairs();
    const before = process.umask(0o000);
    try {
      // The pending key, as created, before it is renamed into place.
      const seen: number[] = [];
      await installPair(paths, pem, {
        beforeRename: async (which) => {
          if (which === 'key') seen.push(await mode(`${paths.key}.new`));
        },
      });
      seen.push(await mode(paths.key));
      expect(seen).toStrictEqual([0o600, 0o600]);
    } finally {
      process.umask(before);
    }
  });

  it.runIf(process.getuid?.() === 0)(
    'run as root on files of another user, gives the new files that owner',
    async () => {
      const { paths, pem } = await twoPairs();
      const { chown } = await import('node:fs/promises');
      await chown(paths.cert, 1234, 2345);
      await chown(paths.key, 1234, 2345);
      await installPair(paths, pem);
      for (const path of [paths.cert, paths.key])
        expect(await stat(path)).toMatchObject({ uid: 1234, gid: 2345 });
    },
  );

  it('dies between the two renames: the next run finds the new key with the pending certificate and completes the pair', async () => {
    const { dir, paths, pem, old } = await twoPairs();
    await expect(
      installPair(paths, pem, {
        beforeRename: (which) => {
          if (which === 'cert') throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    // What a dead process leaves: the new key, the old certificate, the new one pending.
    expect(await readFile(paths.key, 'utf8')).toBe(pem.key);
    expect(await readFile(paths.cert, 'utf8')).toBe(old.cert);
    expect(await pairMatches(paths)).toBe(false);

    expect(await recoverPair(paths)).toMatch(/finished an interrupted renewal/);
    expect(await pairMatches(paths)).toBe(true);
    expect(await readFile(paths.cert, 'utf8')).toBe(pem.cert);
    expect(await readFile(`${paths.cert}.previous`, 'utf8')).toBe(old.cert);
    expect(await readFile(`${paths.key}.previous`, 'utf8')).toBe(old.key);
    expect(Object.keys(await snapshot(dir))).not.toContain('client.pem.new');
    expect(await recoverPair(paths)).toBeUndefined();
  });

  it('dies before the first rename: the next run installs the written pair (the old one kept)', async () => {
    const { paths, pem, old } = await twoPairs();
    await expect(
      installPair(paths, pem, {
        beforeRename: (which) => {
          if (which === 'key') throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    expect(await readFile(paths.cert, 'utf8')).toBe(old.cert);
    expect(await pairMatches(paths)).toBe(true);
    expect(await recoverPair(paths)).toMatch(/finished an interrupted renewal/);
    expect(await readFile(paths.cert, 'utf8')).toBe(pem.cert);
    expect(await readFile(paths.key, 'utf8')).toBe(pem.key);
    expect(await readFile(`${paths.key}.previous`, 'utf8')).toBe(old.key);
  });

  it('removes pending files that do not make a pair (a write cut short), touching nothing current', async () => {
    const { dir, paths, pem } = await twoPairs();
    const before = await snapshot(dir);
    await writeFile(`${paths.key}.new`, pem.key, { mode: 0o600 });
    await writeFile(`${paths.cert}.new`, pem.cert.slice(0, 300));
    expect(await recoverPair(paths)).toMatch(/removed/);
    expect(await snapshot(dir)).toStrictEqual(before);

    await writeFile(`${paths.key}.new`, pem.key, { mode: 0o600 });
    expect(await recoverPair(paths)).toMatch(/removed .*client\.key\.new/);
    expect(await snapshot(dir)).toStrictEqual(before);
  });
});

describe('acquireLock', () => {
  it('lets one run at a time work on a pair, takes over a stale lock, and is gone after release', async () => {
    const { dir, paths } = await twoPairs();
    const release = await acquireLock(paths);
    await expect(acquireLock(paths)).rejects.toThrow(FilesError);
    await expect(acquireLock(paths)).rejects.toThrow(/another ons-certs renew \(pid \d+\) is renewing/);
    await release();
    await writeFile(lockPath(paths), '999999999\n'); // a process that is gone
    const again = await acquireLock(paths);
    await again();
    expect(Object.keys(await snapshot(dir))).toStrictEqual(['client.key', 'client.pem']);
  });

  it('says so when the directory cannot be written, before anything is sent', async () => {
    const paths = { cert: join('/proc', 'client.pem'), key: join('/proc', 'client.key') };
    await expect(acquireLock(paths)).rejects.toThrow(
      /cannot create \/proc\/client\.pem\.lock .*must be writable/,
    );
  });
});
