import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { DatabaseInUse, lockDirectory } from '../../src/db/pglite-lock.ts';
import { tempDir } from '../helpers/fixtures.ts';

/** A process that runs until killed, and its start time as /proc says it. */
async function liveProcess() {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await once(child, 'spawn');
  return { pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

/** A pid that no process has: one that ran and ended. */
async function deadPid(): Promise<number> {
  const child = spawn('true', [], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

const lockFile = (holder: object) =>
  `${JSON.stringify({ nonce: 'f00d', since: '2024-01-01T00:00:00Z', ...holder })}\n`;

describe('the lock of an embedded PGlite directory (issue 13, item 1)', () => {
  it('is taken by the first open and refused to a second in the same process, then free again', async () => {
    const dir = join(await tempDir(), 'pglite');
    const first = await openDatabase({ pgliteDir: dir, command: 'ons-certs serve' });
    const lock = JSON.parse(readFileSync(`${dir}.lock`, 'utf8')) as { pid: number; command: string };
    expect(lock).toMatchObject({ pid: process.pid, command: 'ons-certs serve' });
    await expect(openDatabase({ pgliteDir: dir })).rejects.toThrow(DatabaseInUse);
    await first.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);
    const again = await openDatabase({ pgliteDir: dir });
    await again.close();
  });

  it('refuses while the process named in the lock runs, naming it and what to do', async () => {
    const dir = join(await tempDir(), 'pglite');
    const other = await liveProcess();
    try {
      await writeFile(`${dir}.lock`, lockFile({ pid: other.pid, command: 'ons-certs serve' }));
      const refusal = await lockDirectory(dir, 'ons-certs supplier add').then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refusal).toBeInstanceOf(DatabaseInUse);
      expect((refusal as Error).message).toBe(
        `the embedded database ${dir} is in use by another process: pid ${other.pid} ` +
          '(ons-certs serve, since 2024-01-01T00:00:00Z). Two processes must not open it at once: ' +
          `the writes of one would be lost. Stop that process first (Ctrl-C in its terminal, or kill ${other.pid}); ` +
          'or set DATABASE_URL to a PostgreSQL database that several processes can share',
      );
      // The lock is left as it was.
      expect(JSON.parse(await readFile(`${dir}.lock`, 'utf8'))).toMatchObject({ pid: other.pid });
    } finally {
      other.stop();
    }
  });

  it.each([
    ['a process that no longer runs (SIGKILL)', async () => lockFile({ pid: await deadPid(), command: 'x' })],
    [
      'our own pid, not our lock (a restarted container)',
      async () => lockFile({ pid: process.pid, command: 'x' }),
    ],
    ['garbage', async () => 'not a lock file'],
  ])('takes over a stale lock of %s', async (_what, content) => {
    const dir = join(await tempDir(), 'pglite');
    await writeFile(`${dir}.lock`, await content());
    const lock = await lockDirectory(dir, 'ons-certs serve');
    expect(JSON.parse(await readFile(`${dir}.lock`, 'utf8'))).toMatchObject({
      pid: process.pid,
      command: 'ons-certs serve',
    });
    await lock.release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it.runIf(existsSync('/proc/self/stat'))(
    'takes over a lock whose pid now belongs to a process started later (pid reuse)',
    async () => {
      const dir = join(await tempDir(), 'pglite');
      const other = await liveProcess();
      try {
        await writeFile(`${dir}.lock`, lockFile({ pid: other.pid, command: 'x', startTicks: '1' }));
        const lock = await lockDirectory(dir, 'ons-certs serve');
        expect(JSON.parse(await readFile(`${dir}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
        await lock.release();
      } finally {
        other.stop();
      }
    },
  );

  it('lets exactly one of many processes that find the same stale lock at once take it', async () => {
    const dir = join(await tempDir(), 'pglite');
    await writeFile(`${dir}.lock`, lockFile({ pid: await deadPid(), command: 'x' }));
    // Each child loads the module, waits for the same moment, tries to take the lock, reports,
    // and holds it (if it got it) until killed.
    const goAt = Date.now() + 5000;
    const script = `
      const { lockDirectory } = await import(${JSON.stringify(new URL('../../src/db/pglite-lock.ts', import.meta.url).pathname)});
      while (Date.now() < ${goAt});
      try { await lockDirectory(${JSON.stringify(dir)}, 'racer'); console.log('took'); }
      catch (error) { console.log(error.name); }
      setInterval(() => {}, 1000);`;
    // TypeScript as bin/ons-certs.js runs it: Node's own type stripping, or tsx on Node 20
    // (whose @types/node does not know `process.features.typescript`).
    const features = process.features as { typescript?: string | false };
    const loader = features.typescript ? [] : ['--import', 'tsx'];
    const racers = Array.from({ length: 6 }, () =>
      spawn(process.execPath, [...loader, '--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    try {
      const answers = await Promise.all(
        racers.map(
          (child) =>
            new Promise<string>((resolve) => {
              let out = '';
              child.stdout.on('data', (chunk: Buffer) => {
                out += chunk.toString();
                if (out.includes('\n')) resolve(out.trim());
              });
            }),
        ),
      );
      expect(answers.filter((answer) => answer === 'took')).toHaveLength(1);
      expect(answers.filter((answer) => answer === 'DatabaseInUse')).toHaveLength(5);
    } finally {
      for (const child of racers) child.kill('SIGKILL');
    }
  }, 30_000);
});
