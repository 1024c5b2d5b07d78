// `npm run bench`: every benchmark, each printing ratios against a reference measured in this
// same run (the machines are shared and noisy; bare times mean little). `npm run bench -- ca`
// runs only the named ones.
import { runCaBenchmark } from './ca.ts';
import { runCrlBenchmark } from './crl.ts';
import { runExpiryScanBenchmark } from './expiry-scan.ts';
import { runKeyStrengthBenchmark } from './key-strength.ts';
import { runPipelineBenchmark } from './pipeline.ts';
import { runThrottledPipelineBenchmark } from './pipeline-throttled.ts';
import { runUploadBenchmark } from './upload.ts';

const benchmarks: Record<string, () => Promise<string[]>> = {
  ca: runCaBenchmark,
  keys: runKeyStrengthBenchmark,
  upload: runUploadBenchmark,
  pipeline: runPipelineBenchmark,
  'pipeline-throttled': runThrottledPipelineBenchmark,
  crl: runCrlBenchmark,
  expiry: runExpiryScanBenchmark,
};

const wanted = process.argv.slice(3).filter((a) => !a.startsWith('-'));
for (const [name, run] of Object.entries(benchmarks)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  for (const line of await run()) console.log(line);
}
