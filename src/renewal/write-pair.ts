import { X509Certificate, createPrivateKey } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readCertificateDer } from './current-pair.ts';

/**
 * Where the pair lives. The order of the writes, and why: both new files are first written in
 * full under `<file>.new` next to their targets (the key created 0600, never readable by
 * others) and flushed to disk; then the current files are hard-linked to `<file>.previous`;
 * then the key is renamed into place, then the certificate. Each rename is atomic, but two
 * renames are not one: a process that dies between them leaves the new key with the old
 * certificate, and `<cert>.new` still there. So every run (and the daemon before each check)
 * first calls `recoverPair`, which finishes the job from the `.new` files when they hold a
 * matching pair and removes them when they do not. The key goes first because it is the
 * secret: it reaches its final place (0600) as soon as possible, and the one file that can be
 * left pending is the certificate, which is public. Before the renames nothing current has
 * changed; after the second rename the pair is new and whole.
 */
export interface PairPaths {
  cert: string;
  key: string;
}

/** The files of a renewal as they can be found on disk. */
export const pendingPath = (path: string) => `${path}.new`;
export const previousPath = (path: string) => `${path}.previous`;
export const lockPath = (paths: PairPaths) => `${paths.cert}.lock`;

/** Something about the files stops renewal (another run at work, a directory we cannot write). */
export class FilesError extends Error {
  override name = 'FilesError';
}

/** Points where a test can make the install stop as if the process died there. */
export interface InstallHooks {
  beforeRename?(which: 'key' | 'cert'): void | Promise<void>;
}

/**
 * Takes `<cert>.lock` (O_EXCL, holding our pid) so two runs never renew or write one pair at
 * once; a lock left by a process that is gone is taken over. Returns the release function.
 * Failing to create it also tells, before the server is asked, that the directory cannot be
 * written.
 */
export async function acquireLock(paths: PairPaths): Promise<() => Promise<void>> {
  const path = lockPath(paths);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        throw new FilesError(
          `cannot create ${path} (${code ?? 'error'}): renewal writes the new certificate and key next to the current ones, so their directory must be writable by this user`,
        );
      }
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (attempt === 0 && (!Number.isInteger(holder) || !alive(holder))) {
        await rm(path, { force: true });
        continue;
      }
      throw new FilesError(
        `another ons-certs renew (pid ${Number.isInteger(holder) ? holder : '?'}) is renewing ${paths.cert}; if none is running, remove ${path}`,
      );
    }
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Finishes or undoes a renewal that a dying process left half done (see `PairPaths`); call it
 * with the lock held. Returns what it did, in words, or undefined when there was nothing to do.
 */
export async function recoverPair(paths: PairPaths): Promise<string | undefined> {
  const certNew = await readIfThere(pendingPath(paths.cert));
  const keyNew = await readIfThere(pendingPath(paths.key));
  if (certNew === undefined && keyNew === undefined) return undefined;
  if (certNew !== undefined && keyNew !== undefined) {
    if (!matches(certNew, keyNew)) return discard(paths, 'the incomplete files of an interrupted renewal');
    await keepPrevious(paths);
    await renameInPlace(paths, {});
    return `finished an interrupted renewal: ${paths.key} and ${paths.cert} are the new pair`;
  }
  if (certNew !== undefined) {
    const key = await readIfThere(paths.key);
    if (key === undefined || !matches(certNew, key))
      return discard(paths, `${pendingPath(paths.cert)}, which does not match ${paths.key}`);
    await rename(pendingPath(paths.cert), paths.cert);
    await syncDirectories(paths);
    return `finished an interrupted renewal: installed ${paths.cert} for the new ${paths.key}`;
  }
  return discard(
    paths,
    `${pendingPath(paths.key)}, left by a renewal that stopped before its certificate was written`,
  );
}

async function discard(paths: PairPaths, what: string): Promise<string> {
  await rm(pendingPath(paths.cert), { force: true });
  await rm(pendingPath(paths.key), { force: true });
  await syncDirectories(paths);
  return `removed ${what}`;
}

function matches(certPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(readCertificateDer(certPem, 'cert')).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

async function readIfThere(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Installs a checked pair (see `PairPaths` for the order). The current files are kept as
 * `.previous`; the key file is 0600 from its creation; the certificate keeps the current one's
 * mode. Run as root on files owned by someone else (the connector's user), the new files get
 * that owner too, so the connector can still read them.
 */
export async function installPair(
  paths: PairPaths,
  pem: { cert: string; key: string },
  hooks: InstallHooks = {},
): Promise<void> {
  const [certStat, keyStat] = await Promise.all([stat(paths.cert), stat(paths.key)]);
  await rm(pendingPath(paths.key), { force: true });
  await rm(pendingPath(paths.cert), { force: true });
  try {
    await writeNew(pendingPath(paths.key), pem.key, 0o600, keyStat);
    await writeNew(pendingPath(paths.cert), pem.cert, certStat.mode & 0o666, certStat);
    await syncDirectories(paths);
  } catch (error) {
    // Nothing current was touched: take the partial files away again.
    await rm(pendingPath(paths.key), { force: true });
    await rm(pendingPath(paths.cert), { force: true });
    throw error;
  }
  await keepPrevious(paths);
  await renameInPlace(paths, hooks);
}

async function renameInPlace(paths: PairPaths, hooks: InstallHooks): Promise<void> {
  await hooks.beforeRename?.('key');
  await rename(pendingPath(paths.key), paths.key);
  await hooks.beforeRename?.('cert');
  await rename(pendingPath(paths.cert), paths.cert);
  await syncDirectories(paths);
}

async function writeNew(
  path: string,
  content: string,
  mode: number,
  owner: { uid: number; gid: number },
): Promise<void> {
  // O_EXCL with the mode given at creation: the file is never there with wider permissions.
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await handle.chmod(mode); // the umask may have taken bits away; never adds any beyond `mode`
    if (process.getuid?.() === 0 && (owner.uid !== 0 || owner.gid !== 0))
      await handle.chown(owner.uid, owner.gid);
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Hard-links each current file to `<file>.previous` (atomically replacing the one before). */
async function keepPrevious(paths: PairPaths): Promise<void> {
  for (const path of [paths.cert, paths.key]) {
    const temporary = `${previousPath(path)}.tmp`;
    await rm(temporary, { force: true });
    try {
      await link(path, temporary);
    } catch {
      // No hard links here (some network file systems): a copy, with the mode of the original.
      await copyFile(path, temporary, constants.COPYFILE_EXCL);
      const handle = await open(temporary, 'r+');
      try {
        await handle.chmod((await stat(path)).mode & 0o777);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await rename(temporary, previousPath(path));
  }
  await syncDirectories(paths);
}

async function syncDirectories(paths: PairPaths): Promise<void> {
  for (const directory of new Set([dirname(paths.cert), dirname(paths.key)])) {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
