import { ProbotOctokit } from 'probot';

/** Octokit without throttling and retries: the queues retry, and tests must not wait ~3 s a POST. */
export const TestOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { enabled: false },
  throttle: { ...(options['throttle'] as object), enabled: false },
}));
