import { formatDuration } from '../core/duration.ts';
import { retryDelay, RETRY_FIRST_MS, RETRY_MAX_MS } from '../core/renewal-schedule.ts';

/** What one check of the daemon came to: `failed` starts (or continues) the backoff; `stop` ends the daemon. */
export type CheckResult = 'ok' | 'failed' | 'stop';

export interface DaemonOptions {
  /** Between checks while nothing fails (one hour). */
  intervalMs: number;
  retryFirstMs?: number;
  retryMaxMs?: number;
  /** Where SIGHUP/SIGTERM/SIGINT come from: `process`, or an emitter in tests. */
  signals: Pick<NodeJS.Process, 'on' | 'off'>;
  log(text: string): void;
}

/**
 * Runs `check` now and then every `intervalMs`; after a failure again after 1 min, doubling up
 * to 1 h while it keeps failing. SIGHUP runs a check at once with `force` (renew now, due or
 * not). SIGTERM and SIGINT stop the daemon: a check under way is finished first, so a renewal
 * is never cut off between the server's answer and the files. Resolves when stopped.
 */
export async function runDaemon(
  check: (force: boolean) => Promise<CheckResult>,
  options: DaemonOptions,
): Promise<void> {
  let stopping = false;
  let forced = false;
  let wake: () => void = () => {};
  const onHangUp = () => {
    options.log('SIGHUP: renewing now');
    forced = true;
    wake();
  };
  const onStop = (signal: string) => {
    options.log(`${signal}: stopping`);
    stopping = true;
    wake();
  };
  const onTerm = () => onStop('SIGTERM');
  const onInt = () => onStop('SIGINT');
  options.signals.on('SIGHUP', onHangUp);
  options.signals.on('SIGTERM', onTerm);
  options.signals.on('SIGINT', onInt);
  try {
    let failures = 0;
    while (!stopping) {
      const force = forced;
      forced = false;
      const result = await check(force);
      if (stopping || result === 'stop') break;
      failures = result === 'failed' ? failures + 1 : 0;
      if (forced) continue; // a SIGHUP during the check asks for another one
      const delay = failures
        ? retryDelay(failures, options.retryFirstMs ?? RETRY_FIRST_MS, options.retryMaxMs ?? RETRY_MAX_MS)
        : options.intervalMs;
      options.log(
        failures
          ? `failed ${failures} time${failures === 1 ? '' : 's'} in a row: next try in ${formatDuration(delay)}`
          : `next check in ${formatDuration(delay)}`,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = () => {};
    }
  } finally {
    options.signals.off('SIGHUP', onHangUp);
    options.signals.off('SIGTERM', onTerm);
    options.signals.off('SIGINT', onInt);
  }
}
