#!/usr/bin/env node
// Start time and idle memory of `ons-certs serve`: `node bench/startup.mjs [runs]`.
// Plain JavaScript, so that any Node runs it (`/path/to/node bench/startup.mjs` measures that
// Node: the service is started with the same binary). Each run starts the service on a free port
// with its own DATA_DIR, waits for the "ons-certs is listening" line, waits IDLE_SECONDS, reads
// the resident memory of the process and its children, and stops it with SIGTERM (by its PID).
//   DATABASE_URL  PostgreSQL to use (default: the embedded database, created anew in each run)
//   REDIS_URL     passed through when set
//   COLD=1        also gives each run its own TMPDIR (tsx's transform cache starts empty)
import { spawn } from 'node:child_process';
import { setTimeout } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const runs = Number(process.argv[2] ?? 3);
const IDLE_SECONDS = 5;

async function rssKiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
}

/** The resident memory of the process and of its children's trees (tsx's esbuild service on
 * Node 20 is one). */
async function treeRssKiB(pid) {
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => ''))
    .split(' ')
    .filter(Boolean);
  const sizes = await Promise.all(children.map((child) => treeRssKiB(Number(child)).catch(() => 0)));
  return sizes.reduce((sum, size) => sum + size, await rssKiB(pid));
}

/** CPU time (user + system) the process has used so far, in seconds: less at the mercy of a busy
 * machine than the wall-clock time to ready. */
async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

async function once() {
  const dir = await mkdtemp(join(tmpdir(), 'ons-certs-startup-'));
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, LOG_FORMAT: 'json' };
  if (process.env.COLD === '1') env.TMPDIR = dir;
  const started = performance.now();
  const child = spawn(process.execPath, ['bin/ons-certs.js', 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The log (JSON lines) goes to stderr; anything else there (a Node warning) is reported.
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (out += chunk));
  try {
    let readyCpu = 0;
    const readyMs = await new Promise((resolve, reject) => {
      const listening = () => {
        if (!out.includes('ons-certs is listening')) return;
        child.stderr.off('data', listening);
        const ms = performance.now() - started;
        cpuSeconds(child.pid).then((s) => resolve(((readyCpu = s), ms)), reject);
      };
      child.stderr.on('data', listening);
      child.once('exit', (code) => reject(new Error(`exited (${code}) before listening:\n${out}`)));
    });
    await setTimeout(IDLE_SECONDS * 1000);
    const rssMiB = (await treeRssKiB(child.pid)) / 1024;
    const warnings = out
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('{'))
      .join('\n');
    return { readyMs, readyCpu, rssMiB, warnings };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await rm(dir, { recursive: true, force: true });
  }
}

const results = [];
for (let i = 0; i < runs; i++) {
  const result = await once();
  results.push(result);
  console.log(
    `run ${i + 1}: ready in ${(result.readyMs / 1000).toFixed(2)} s (${result.readyCpu.toFixed(2)} s CPU), ` +
      `idle RSS ${result.rssMiB.toFixed(0)} MiB`,
  );
  if (result.warnings) console.log(`  stderr: ${result.warnings}`);
}
const mean = (pick) => results.reduce((sum, r) => sum + pick(r), 0) / results.length;
console.log(
  `node ${process.version}, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded database'}${process.env.COLD === '1' ? ', cold TMPDIR' : ''}: ` +
    `mean ready ${(mean((r) => r.readyMs) / 1000).toFixed(2)} s (${mean((r) => r.readyCpu).toFixed(2)} s CPU), mean idle RSS ${mean((r) => r.rssMiB).toFixed(0)} MiB over ${runs} runs`,
);
