import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../test/fixtures/csr', import.meta.url));

const madeDirs: string[] = [];
// The benchmarks' temporary directories (CA keys among them) go when the run ends.
process.once('exit', () => {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory, removed when the benchmark run ends. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ons-certs-bench-'));
  madeDirs.push(dir);
  return dir;
}

/** Calls `work` repeatedly for about `seconds` and returns calls per second. */
export function repeatFor(seconds: number, work: () => unknown): number {
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  let count = 0;
  while (performance.now() < until) {
    work();
    count++;
  }
  return count / ((performance.now() - started) / 1000);
}

/** One summary line: name, ratio to the reference, target verdict, then what the ratio is of. */
export function ratioLine(name: string, ratio: number, target: number | undefined, parts: string[]): string {
  const verdict =
    target === undefined
      ? ''
      : ratio >= target
        ? ` (target >= ${target}: met)`
        : ` (target >= ${target}: MISSED)`;
  return `${name}: ratio ${ratio.toFixed(3)}${verdict}; ${parts.join('; ')}`;
}

/** The p-th percentile (nearest rank) of some samples. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/** One summary line for a latency distribution from one run: name, p50 and p99, then what it is of. */
export function latencyLine(name: string, samplesMs: number[], parts: string[]): string {
  const p50 = percentile(samplesMs, 50).toFixed(0);
  const p99 = percentile(samplesMs, 99).toFixed(0);
  return `${name}: p50 ${p50} ms, p99 ${p99} ms over ${samplesMs.length}; ${parts.join('; ')}`;
}
