import type { Config } from '../config.ts';
import { createLogger, logDestination } from '../log.ts';
import { startService } from '../main.ts';
import { UsageError } from './output.ts';

/**
 * How long a shutdown may take. A job that waits for GitHub (an Octokit request to a host that
 * does not answer, or its retries) would otherwise hold the process for as long as it waits;
 * such a job is left unfinished: its lock lapses and a worker runs it again after the restart.
 */
export const SHUTDOWN_SECONDS = 10;

/** `ons-certs serve`: runs until SIGINT/SIGTERM, then closes, within SHUTDOWN_SECONDS. */
export async function serve(config: Readonly<Config>, args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`serve takes no arguments (got "${args.join(' ')}")`);
  const log = createLogger(config.logLevel, logDestination(config.logFormat));
  const service = await startService(config, log);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info({ signal }, 'shutting down');
  const started = Date.now();
  const closed = await Promise.race([
    service.close().then(
      () => true,
      (error: unknown) => {
        log.warn({ err: error }, 'shutting down: closing failed; stopping anyway');
        return true;
      },
    ),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), SHUTDOWN_SECONDS * 1000).unref()),
  ]);
  if (!closed) {
    log.warn(
      `shutting down: not everything stopped within ${SHUTDOWN_SECONDS} s (a job waiting for GitHub?); ` +
        'stopping now: unfinished jobs run again once a worker is back',
    );
  }
  log.info({ ms: Date.now() - started }, 'stopped');
  // Whatever still holds the event loop (a request to GitHub that does not answer, a retry's
  // timer) must not hold the process: a moment for the log to be written, then exit.
  setTimeout(() => process.exit(), 500).unref();
  return 0;
}
