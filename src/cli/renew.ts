import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatDuration, parseDuration } from '../core/duration.ts';
import { failureMessage } from '../core/renewal-messages.ts';
import { PairError } from '../renewal/current-pair.ts';
import { runDaemon, type CheckResult } from '../renewal/daemon.ts';
import { newRenewalKey } from '../renewal/make-csr.ts';
import {
  certificateJitter,
  renewOnce,
  type RenewDeps,
  type RenewOutcome,
  type RenewRequest,
} from '../renewal/renew-once.ts';
import { FilesError, previousPath } from '../renewal/write-pair.ts';
import { UsageError, type Output } from './output.ts';

/** What `renew` needs from outside beyond its arguments; tests pass their own. */
export interface RenewEnvironment {
  deps: RenewDeps;
  runExec(command: string): Promise<number>;
  signals: Pick<NodeJS.Process, 'on' | 'off'>;
}

const HOUR = 3_600_000;
const ONE_SHOT_RETRY_PAUSES_MS = [5_000, 20_000];

/**
 * `ons-certs renew --cert F --key F --url URL [--ca F] [--before D] [--exec CMD] [--daemon]
 * [--interval D]`: renews the certificate over EST (mTLS) when it is due. Exit 0 when renewed
 * or not due, 1 when refused or failed (nothing written) or --exec failed (files renewed),
 * 2 for bad usage or files that cannot be read. With --daemon it runs until SIGTERM/SIGINT.
 */
export async function renew(
  args: string[],
  output: Output,
  environment: RenewEnvironment = defaultEnvironment(),
): Promise<number> {
  const options = readOptions(args);
  let caPem: string | undefined;
  if (options.ca !== undefined) {
    try {
      caPem = await readFile(options.ca, 'utf8');
    } catch (error) {
      output.err(
        `ons-certs: cannot read --ca ${options.ca}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
      return 2;
    }
    if (!caPem.includes('-----BEGIN CERTIFICATE-----')) {
      output.err(`ons-certs: --ca ${options.ca} holds no PEM certificate`);
      return 2;
    }
  }
  const request: RenewRequest = {
    paths: { cert: options.cert, key: options.key },
    url: options.url,
    ...(caPem ? { caPem } : {}),
    ...(options.beforeMs !== undefined ? { beforeMs: options.beforeMs } : {}),
  };
  if (!options.daemon) {
    // Run once (cron, a timer): a lost answer is retried within the run, with the same CSR.
    const deps = { retryPausesMs: ONE_SHOT_RETRY_PAUSES_MS, ...environment.deps };
    return once(request, options.exec, output, { ...environment, deps });
  }
  let first = true;
  let fatal: number | undefined;
  const pending = {};
  await runDaemon(
    async (force): Promise<CheckResult> => {
      const code = await once({ ...request, force }, options.exec, output, {
        ...environment,
        deps: { ...environment.deps, pending },
      });
      // Files that cannot be used at the start are a setup error: stop at once (exit 2).
      // Later (someone broke them while the daemon ran) it is a failure, retried.
      const stop = first && code === 2;
      first = false;
      if (stop) {
        fatal = 2;
        return 'stop';
      }
      return code === 0 ? 'ok' : 'failed';
    },
    {
      intervalMs: options.intervalMs,
      signals: environment.signals,
      log: (text) => output.out(`ons-certs renew: ${text}`),
    },
  );
  return fatal ?? 0;
}

/** One run: 0 renewed or not due, 1 refused/failed or --exec failed, 2 unusable files. */
async function once(
  request: RenewRequest,
  exec: string | undefined,
  output: Output,
  environment: RenewEnvironment,
): Promise<number> {
  let outcome: RenewOutcome;
  try {
    outcome = await renewOnce(request, environment.deps);
  } catch (error) {
    if (error instanceof PairError) {
      output.err(`ons-certs: ${error.message}`);
      return 2;
    }
    if (error instanceof FilesError) {
      output.err(`ons-certs: ${error.message}`);
      return 1;
    }
    throw error;
  }
  for (const note of outcome.notes) output.out(`ons-certs renew: ${note}`);
  const cert = request.paths.cert;
  const now = environment.deps.now();
  switch (outcome.kind) {
    case 'not_due': {
      const { verdict, current } = outcome;
      output.out(
        `${cert}: not due for renewal; it expires on ${current.notAfter.toISOString()} (in ${formatDuration(verdict.leftMs)}); ` +
          `renewal is due from ${verdict.dueAt.toISOString()} (in ${formatDuration(verdict.dueAt.getTime() - now.getTime())})`,
      );
      return 0;
    }
    case 'failed':
      output.err(
        `ons-certs: renewal of ${cert} failed, nothing was written: ${failureMessage(outcome.failure)}`,
      );
      if (outcome.warning) output.err(outcome.warning);
      return 1;
    case 'renewed': {
      const { certificate } = outcome;
      output.out(
        `${cert}: renewed; serial ${certificate.serialNumber.toLowerCase()}, valid until ${new Date(certificate.validTo).toISOString()}; ` +
          `the previous pair is kept as ${previousPath(cert)} and ${previousPath(request.paths.key)}`,
      );
      if (exec === undefined) return 0;
      output.out(`ons-certs renew: running --exec: ${exec}`);
      const status = await environment.runExec(exec);
      if (status === 0) return 0;
      output.err(
        `ons-certs: --exec failed (exit code ${status}): the new certificate and key are installed, but the connector may still use the old ones until it reloads them`,
      );
      return 1;
    }
  }
}

interface RenewOptions {
  cert: string;
  key: string;
  url: URL;
  ca?: string;
  beforeMs?: number;
  exec?: string;
  daemon: boolean;
  intervalMs: number;
}

function readOptions(args: string[]): RenewOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      allowPositionals: false,
      options: {
        cert: { type: 'string' },
        key: { type: 'string' },
        url: { type: 'string' },
        ca: { type: 'string' },
        before: { type: 'string' },
        exec: { type: 'string' },
        daemon: { type: 'boolean', default: false },
        interval: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError(`renew: ${(error as Error).message}`);
  }
  for (const name of ['cert', 'key', 'url'] as const) {
    if (!values[name]) throw new UsageError(`renew needs --${name}`);
  }
  let url: URL;
  try {
    url = new URL(values.url!);
  } catch {
    throw new UsageError(`renew: --url "${values.url}" is not a URL (e.g. https://certs.example:8443)`);
  }
  if (url.protocol !== 'https:') throw new UsageError('renew: --url must be https:// (renewal is over mTLS)');
  if (url.search || url.hash || url.username || url.password) {
    throw new UsageError('renew: --url takes a scheme, host, port and path only');
  }
  const duration = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const parsed = parseDuration(text);
    if (!parsed.ok) throw new UsageError(`renew: --${name}: ${parsed.message}`);
    return parsed.ms;
  };
  if (values.interval !== undefined && !values.daemon)
    throw new UsageError('renew: --interval goes with --daemon');
  if (values.exec !== undefined && values.exec.trim() === '') throw new UsageError('renew: --exec is empty');
  const beforeMs = duration('before', values.before);
  return {
    cert: values.cert!,
    key: values.key!,
    url,
    daemon: values.daemon ?? false,
    intervalMs: duration('interval', values.interval) ?? HOUR,
    ...(values.ca !== undefined ? { ca: values.ca } : {}),
    ...(beforeMs !== undefined ? { beforeMs } : {}),
    ...(values.exec !== undefined ? { exec: values.exec } : {}),
  };
}

function defaultEnvironment(): RenewEnvironment {
  return {
    deps: { now: () => new Date(), jitter: certificateJitter, newKey: newRenewalKey, timeoutMs: 60_000 },
    runExec,
    signals: process,
  };
}

/** Runs a command through the shell, its output passed through; resolves with its exit code. */
export function runExec(command: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
