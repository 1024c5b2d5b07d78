// One process of the service for the pipeline benchmark, started by bench/pipeline.ts like
// `ons-certs serve` (configuration from the environment), except that its GitHub App talks to
// the benchmark's local stand-in with Octokit's throttling off (BENCH_GITHUB_URL). Prints
// `ready <url>` once it serves (or `ready` for WORKERS=worker); stops on SIGTERM. With
// BENCH_THROTTLE=on it keeps Probot's own Octokit, throttling and retries on, as in production.
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { startService } from '../src/main.ts';
import { TestOctokit } from '../test/helpers/test-octokit.ts';

const config = loadConfig(process.env);
const log = createLogger(config.logLevel);
const service = await startService(config, log, {
  github: {
    ...(process.env.BENCH_THROTTLE === 'on' ? {} : { Octokit: TestOctokit }),
    baseUrl: process.env.BENCH_GITHUB_URL,
  },
});
process.stdout.write(config.workers === 'worker' ? 'ready\n' : `ready ${service.url}\n`);
process.once('SIGTERM', () => {
  void service.close().then(() => process.exit(0));
});
