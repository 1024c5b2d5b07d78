// `node bin/run-ts.js bench/cpu-profile-summary.ts <file.cpuprofile> [skip-seconds] [top]`:
// where a V8 CPU profile (node --cpu-prof, e.g. BENCH_CPU_PROF=<dir> npm run bench -- upload)
// spent its main thread's time, leaving out the first `skip-seconds` (start-up and warm-up):
// self time by function and by file/package, as shares of the profiled span.
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, skipArg, topArg] = process.argv.slice(3);
if (!file) throw new Error('usage: cpu-profile-summary.ts <file.cpuprofile> [skip-seconds] [top]');
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
const skipUs = Number(skipArg ?? 0) * 1e6;
const top = Number(topArg ?? 25);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

/** The package or our own file a frame belongs to, so that time adds up by part. */
function part(url: string, name: string): string {
  if (!url) return `(${name || 'native'})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url;
  const own = /\/((?:src|bench|bin)\/.*)$/.exec(url);
  return own ? own[1]! : url;
}

const self = new Map<string, number>();
const parts = new Map<string, number>();
let t = 0;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] ?? 0;
  if (t < skipUs) continue;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  const node = byId.get(profile.samples[i]!)!;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = part(url, functionName);
  const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + dt);
  parts.set(where, (parts.get(where) ?? 0) + dt);
  total += dt;
}
const span = (profile.endTime - profile.startTime - skipUs) / 1e6;
const list = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([k, us]) =>
        `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
    )
    .join('\n');
console.log(
  `${file}: ${span.toFixed(1)} s after the first ${skipArg ?? 0} s, ${(total / 1e6).toFixed(1)} s sampled`,
);
console.log(`by part (self time):\n${list(parts)}`);
console.log(`by function (self time):\n${list(self)}`);
