import { readFileSync } from 'node:fs';
import Bottleneck from 'bottleneck';
import { createProbot, ProbotOctokit, type Probot } from 'probot';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import {
  createWriteLimiter,
  pacedFetch,
  writeBudgetCheck,
  type WriteLimiter,
} from './github-write-limiter.ts';

export interface GitHubApp {
  probot: Probot;
  appId: number;
}

export interface GitHubAppOptions {
  /** Another Octokit class (tests turn off throttling and retries, which the queues do instead). */
  Octokit?: typeof ProbotOctokit;
  /** The GitHub API's base URL when it is neither github.com nor GHE_HOST (a local stand-in). */
  baseUrl?: string;
}

/**
 * Probot's Octokit with our write pace (src/core/github-write-pace.ts) instead of Octokit's:
 * its throttling would space comments 3 s apart and other writes 1 s apart in two queues, so
 * its write and notification groups are handed ones that hold nothing back (its global, search
 * and rate-limit handling stay). Its retry plugin also leaves a 429 alone: it would send the
 * request again after 1 s whatever `retry-after` says (a 403 it already leaves alone), while the
 * `github` job waits as long as GitHub asks (src/core/github-retry.ts) and resumes where it was.
 */
export function appOctokit(limiter: WriteLimiter): typeof ProbotOctokit {
  const unlimited = () => new Bottleneck.Group({ maxConcurrent: null, minTime: 0 });
  const groups = { write: unlimited(), notifications: unlimited() };
  return ProbotOctokit.plugin(writeBudgetCheck(limiter) as never).defaults(
    (options: Record<string, unknown>) => {
      const throttle = options['throttle'] as { id?: string } | undefined;
      return {
        ...options,
        // Probot names each installation's Octokit by its id; the app's own shares one pace.
        request: { ...(options['request'] as object), fetch: pacedFetch(limiter, throttle?.id ?? 'app') },
        throttle: { ...throttle, ...groups },
        retry: { ...(options['retry'] as object), doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
      };
    },
  ) as typeof ProbotOctokit;
}

/**
 * The Probot instance of our GitHub App, or undefined (and a log line saying why) when the app
 * is not configured: then the bot is off and everything else runs. Probot gets exactly the
 * variables it needs, not the whole environment: it would also pick up REDIS_URL and try to
 * share its rate-limit state through Redis in a way that fails offline.
 */
export function createGitHubApp(
  config: Readonly<Config>,
  log: Logger,
  options: GitHubAppOptions = {},
): GitHubApp | undefined {
  const { appId, privateKey, privateKeyPath, webhookSecret, gheHost, gheProtocol } = config.github;
  const missing = [
    appId ? undefined : 'APP_ID',
    privateKey || privateKeyPath ? undefined : 'PRIVATE_KEY or PRIVATE_KEY_PATH',
    webhookSecret ? undefined : 'WEBHOOK_SECRET',
  ].filter((name) => name !== undefined);
  if (!appId || missing.length > 0) {
    log.warn(
      { missing },
      `the GitHub App is not configured (${missing.join(', ')} unset): the ticket bot is off; ` +
        'see "Running the bot against GitHub" in docs/bot.md',
    );
    return undefined;
  }
  const key = privateKey ?? readPrivateKey(privateKeyPath ?? '');
  const probot = createProbot({
    env: {
      APP_ID: appId,
      PRIVATE_KEY: key,
      WEBHOOK_SECRET: webhookSecret,
      ...(gheHost ? { GHE_HOST: gheHost, GHE_PROTOCOL: gheProtocol } : {}),
      LOG_LEVEL: 'warn',
    },
    overrides: {
      log: log.child({ component: 'probot' }) as never,
      Octokit: options.Octokit ?? appOctokit(createWriteLimiter(config.github.writePace)),
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    },
  });
  log.info({ appId, host: gheHost ?? 'github.com' }, 'the ticket bot is on');
  return { probot, appId: Number(appId) };
}

function readPrivateKey(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `PRIVATE_KEY_PATH ${path} cannot be read (${(error as Error).message}); ` +
        "point it at the GitHub App's private key (.pem) downloaded from the app's settings",
      { cause: error },
    );
  }
}
