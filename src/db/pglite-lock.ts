import { randomBytes } from 'node:crypto';
import { mkdir, readFile, unlink, link, writeFile } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One process at a time on an embedded PGlite directory. PGlite is PostgreSQL in a single
 * process: a second process that opens the same directory works on its own copy of the pages,
 * and whichever closes last overwrites the other's writes (a token the service never sees, a
 * version gone after a restart). So whoever opens the directory first holds `<dir>.lock` for
 * as long as it has it open, and any other process is refused with a DatabaseInUse naming it.
 *
 * The lock is a small JSON file made with link(2), which is atomic and fails when the file is
 * there (like open O_EXCL, but the content is complete the moment the file appears). A lock
 * left by a process that died without letting go (SIGKILL, a power cut) is stale: its pid no
 * longer runs, or (on Linux) the process with that pid started at another time than the one
 * that took the lock. A stale lock is taken over under a short second lock (`<dir>.lock.takeover`)
 * so that two processes finding the same stale lock cannot both take it.
 */

/** Who holds the lock, as written in the lock file. */
export interface LockHolder {
  pid: number;
  /** What the holder runs, e.g. `ons-certs serve`. */
  command: string;
  /** When it took the lock (ISO 8601). */
  since: string;
  /** Linux: the holder's start time in clock ticks since boot (/proc/<pid>/stat), against pid reuse. */
  startTicks?: string;
  /** Tells this lock from a later one of a process with the same pid. */
  nonce: string;
}

/** The directory is open in another process (or already in this one). */
export class DatabaseInUse extends Error {
  override name = 'DatabaseInUse';
  readonly dir: string;
  readonly holder: LockHolder;
  /** What to do while the other process runs, e.g. the API call that does the same. */
  readonly instead: string | undefined;

  constructor(dir: string, holder: LockHolder, instead?: string) {
    super(
      `the embedded database ${dir} is in use by another process: pid ${holder.pid} ` +
        `(${holder.command}, since ${holder.since}). Two processes must not open it at once: ` +
        `the writes of one would be lost. Stop that process first (Ctrl-C in its terminal, or ` +
        `kill ${holder.pid})${instead ? `; or, while it runs, ${instead}` : ''}; or set DATABASE_URL ` +
        'to a PostgreSQL database that several processes can share',
    );
    this.dir = dir;
    this.holder = holder;
    this.instead = instead;
  }
}

/** A lock this process holds; `release` is idempotent. */
export interface DirectoryLock {
  path: string;
  release(): Promise<void>;
}

/** The locks this process holds, by lock path: a second open in the same process is refused too. */
const held = new Map<string, LockHolder>();

/** Takes `<dir>.lock` for `command`, or throws DatabaseInUse naming the process that has it. */
export async function lockDirectory(dir: string, command: string): Promise<DirectoryLock> {
  const path = `${resolve(dir)}.lock`;
  const mine = held.get(path);
  if (mine) throw new DatabaseInUse(dir, mine);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const me: LockHolder = {
    pid: process.pid,
    command,
    since: new Date().toISOString(),
    ...startTicksOf(process.pid),
    nonce: randomBytes(8).toString('hex'),
  };
  for (let attempt = 0; ; attempt++) {
    if (await create(path, me)) break;
    const holder = await readHolder(path);
    if (holder === 'gone') continue; // let go of between our try and our look: try again
    if (holder !== 'unreadable' && isAlive(holder)) throw new DatabaseInUse(dir, holder);
    if (attempt >= 50) throw new Error(`could not take over the stale lock ${path}; remove it by hand`);
    await takeOver(path, holder);
  }
  held.set(path, me);
  const onExit = () => releaseSync(path, me);
  process.once('exit', onExit);
  return {
    path,
    async release() {
      process.removeListener('exit', onExit);
      releaseSync(path, me);
    },
  };
}

/** Writes the holder to a file of its own, then links it in place: true when it was free. */
async function create(path: string, holder: LockHolder): Promise<boolean> {
  const temporary = `${path}.${holder.pid}.${holder.nonce}`;
  await writeFile(temporary, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/**
 * Removes a stale lock under the takeover lock, after looking again: another process may have
 * taken it over (and now holds it) since we read it.
 */
async function takeOver(path: string, stale: LockHolder | 'unreadable'): Promise<void> {
  const guard = `${path}.takeover`;
  const me: LockHolder = {
    pid: process.pid,
    command: 'takeover',
    since: new Date().toISOString(),
    nonce: randomBytes(8).toString('hex'),
  };
  if (!(await create(guard, me))) {
    const other = await readHolder(guard);
    // A live process is taking it over right now: wait for it. A dead one left its guard.
    if (other !== 'gone' && other !== 'unreadable' && isAlive(other)) await sleep(20);
    else await unlink(guard).catch(() => undefined);
    return;
  }
  try {
    const now = await readHolder(path);
    const same =
      now === 'unreadable'
        ? stale === 'unreadable'
        : now !== 'gone' && stale !== 'unreadable' && now.nonce === stale.nonce;
    if (same) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

async function readHolder(path: string): Promise<LockHolder | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isInteger(value.pid) && typeof value.nonce === 'string') {
      return {
        pid: value.pid!,
        command: String(value.command ?? 'unknown'),
        since: String(value.since ?? 'unknown'),
        ...(typeof value.startTicks === 'string' ? { startTicks: value.startTicks } : {}),
        nonce: value.nonce,
      };
    }
  } catch {
    // a lock file of someone else's making: unreadable
  }
  return 'unreadable';
}

/** Whether the process that wrote `holder` still runs. */
function isAlive(holder: LockHolder): boolean {
  // Our own pid but not our lock: a previous life of a restarted container, say.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTicksOf(holder.pid).startTicks;
  return !(holder.startTicks && now && now !== holder.startTicks);
}

/** Linux: field 22 of /proc/<pid>/stat, the process's start time; nothing elsewhere. */
function startTicksOf(pid: number): { startTicks?: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = fields[19];
    return ticks && /^\d+$/.test(ticks) ? { startTicks: ticks } : {};
  } catch {
    return {};
  }
}

/** Removes the lock if it is still ours (synchronous: it also runs at process exit). */
function releaseSync(path: string, me: LockHolder): void {
  if (held.get(path) !== me) return;
  held.delete(path);
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (holder.nonce === me.nonce) unlinkSync(path);
  } catch {
    // gone already, or not ours any more
  }
}
