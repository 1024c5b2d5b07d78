// Machine CPU by part for the end-to-end benchmarks (pipeline, upload): the service's own
// processes, PostgreSQL and Redis, and the whole machine, read from Linux's /proc.
import { readdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';

/** The servers whose CPU the benchmarks report beside the service's (process names in /proc). */
export const SERVERS = ['postgres', 'redis-server'];

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const TICK_MS = 10;

/** utime + stime of a /proc/<pid>/stat line, in ms (fields 14 and 15, 1-based, man proc). */
function statCpuMs(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** user + system CPU time of a process in ms, from /proc. */
export async function processCpuMs(pid: number): Promise<number> {
  return statCpuMs(await readFile(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * CPU time (ms) the machine's processes of these programs used so far (Linux /proc; backends
 * that ended meanwhile are not counted, so this is a lower bound). Zero where /proc is absent.
 */
export async function programCpuMs(names: string[]): Promise<Record<string, number>> {
  const totals = Object.fromEntries(names.map((name) => [name, 0]));
  const pids = await readdir('/proc').catch(() => [] as string[]);
  await Promise.all(
    pids
      .filter((pid) => /^\d+$/.test(pid))
      .map(async (pid) => {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
        const name = /\(([^)]*)\)/.exec(stat)?.[1] ?? '';
        if (name in totals) totals[name]! += statCpuMs(stat);
      }),
  );
  return totals;
}

/** CPU time (ms) all cores of the machine spent busy since boot: PostgreSQL and Redis too. */
export function machineBusyMs(): number {
  return cpus().reduce((sum, { times }) => sum + times.user + times.nice + times.sys + times.irq, 0);
}

/** A snapshot of CPU used so far, by part; `since` gives what each part used after another one. */
export interface CpuSnapshot {
  /** ms by part: the given processes by name, the servers by program, `machine` for all cores. */
  parts: Record<string, number>;
}

/** CPU used so far by the named processes (pids), PostgreSQL, Redis and the whole machine. */
export async function cpuSnapshot(processes: Record<string, number>): Promise<CpuSnapshot> {
  const own = await Promise.all(
    Object.entries(processes).map(async ([name, pid]) => [name, await processCpuMs(pid)] as const),
  );
  const servers = await programCpuMs(SERVERS);
  return { parts: { ...Object.fromEntries(own), ...servers, machine: machineBusyMs() } };
}

/** CPU (ms) each part used between two snapshots, divided by `per` (e.g. per upload). */
export function cpuSince(before: CpuSnapshot, after: CpuSnapshot, per = 1): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after.parts).map(([name, ms]) => [name, (ms - (before.parts[name] ?? 0)) / per]),
  );
}
