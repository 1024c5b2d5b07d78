import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import nock from 'nock';
import { loadConfig } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { startService, type RunningService } from '../../src/main.ts';
import { createPostgresDatabase, dropPostgresDatabase } from './database.ts';
import { CA_DIR, tempDir } from './fixtures.ts';
import { join } from 'node:path';
import { httpCall } from './http.ts';
import { TestOctokit } from './test-octokit.ts';

export const API = 'https://api.github.com';
export const OWNER = 'nedap-ons';
export const REPO = 'support';
export const INSTALLATION = 4242;
export const APP_ID = 31337;
export const WEBHOOK_SECRET = 'webhook-secret-for-tests';
export const ADMIN = 'admin-token-for-tests-0123456789';

export { TestOctokit } from './test-octokit.ts';

type Example = { name: string; examples: Record<string, unknown>[] };
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as Example[];

/** A real payload from @octokit/webhooks-examples, deep-copied. */
export function examplePayload(event: string, action: string): Record<string, unknown> {
  const found = examples.find((e) => e.name === event)?.examples.find((x) => x['action'] === action);
  if (!found) throw new Error(`no example for ${event}.${action}`);
  return structuredClone(found);
}

export interface IssueShape {
  number: number;
  body: string;
  author?: { login: string; id: number };
  labels?: string[];
  state?: 'open' | 'closed';
}

function withIssue(payload: Record<string, unknown>, issue: IssueShape): Record<string, unknown> {
  const base = payload['issue'] as Record<string, unknown>;
  const author = issue.author ?? { login: 'supplier-dev', id: 5001 };
  const repository = payload['repository'] as Record<string, unknown>;
  return {
    ...payload,
    issue: {
      ...base,
      number: issue.number,
      body: issue.body,
      state: issue.state ?? 'open',
      labels: (issue.labels ?? ['certificate-approval']).map((name, i) => ({ id: i + 1, name })),
      user: { ...(base['user'] as object), login: author.login, id: author.id, type: 'User' },
      pull_request: undefined,
    },
    repository: {
      ...repository,
      name: REPO,
      full_name: `${OWNER}/${REPO}`,
      owner: { ...(repository['owner'] as object), login: OWNER },
    },
    installation: { id: INSTALLATION, node_id: 'MDIz' },
    sender: { ...(payload['sender'] as object), login: author.login, id: author.id, type: 'User' },
  };
}

/** An `issues` event for a ticket. */
export function issueEvent(action: 'opened' | 'edited' | 'labeled', issue: IssueShape, label?: string) {
  const payload = withIssue(examplePayload('issues', action), issue);
  if (action === 'labeled') payload['label'] = { id: 99, name: label ?? 'certificate-approval' };
  return payload;
}

/** A new comment on a ticket, written now unless `createdAt` says when (GitHub: whole seconds). */
export function commentEvent(
  issue: IssueShape,
  comment: {
    id: number;
    body: string;
    user: { login: string; id: number; type?: string };
    createdAt?: string;
  },
  action: 'created' | 'edited' = 'created',
) {
  const payload = withIssue(examplePayload('issue_comment', action), issue);
  const base = payload['comment'] as Record<string, unknown>;
  payload['comment'] = {
    ...base,
    id: comment.id,
    body: comment.body,
    user: { ...(base['user'] as object), ...comment.user, type: comment.user.type ?? 'User' },
    created_at: comment.createdAt ?? new Date().toISOString(),
  };
  return payload;
}

/** The issue form's body as GitHub renders it. */
export function ticketBody(fields: {
  connector?: string;
  version?: string;
  customerCode?: string;
  csr?: string;
  details?: string;
}): string {
  const value = (v: string | undefined) => (v === undefined || v === '' ? '_No response_' : v);
  return [
    '### Connector',
    '',
    value(fields.connector),
    '',
    '### Version',
    '',
    value(fields.version),
    '',
    '### Customer code',
    '',
    value(fields.customerCode),
    '',
    '### CSR',
    '',
    fields.csr ? '```\n' + fields.csr.trim() + '\n```' : '_No response_',
    '',
    '### Details',
    '',
    value(fields.details),
  ].join('\n');
}

export const APPROVERS_YAML = `organisations:
  - name: Zorggroep Oost
    customer_codes: [TE1234, CF1234, TE1235, TE1236, CF1235]
    approvers: [alice, "@zorggroep-oost/certificate-approvers"]
  - name: Thuiszorg West
    customer_codes: [TE5678, TE5679]
    approvers: [mallory]
reminder_days: 3
expire_days: 30
`;

const ISSUE = `/repos/${OWNER}/${REPO}/issues`;
const CONFIG_PATH = /\/repos\/nedap-ons\/support\/contents\/\.github(%2F|\/)ons-certificates\.yml/;

/** nock helpers named after the GitHub operation they expect. */
export const github = {
  token: () =>
    nock(API)
      .persist()
      .post(`/app/installations/${INSTALLATION}/access_tokens`)
      .reply(201, { token: 'ghs_test', expires_at: new Date(Date.now() + 3600_000).toISOString() }),
  config: (yaml: string | undefined) =>
    yaml === undefined
      ? nock(API)
          .get(CONFIG_PATH)
          .reply(404, { message: 'Not Found' })
          .get(/\/repos\/nedap-ons\/\.github\/contents\/\.github(%2F|\/)ons-certificates\.yml/)
          .reply(404, { message: 'Not Found' })
      : nock(API).get(CONFIG_PATH).reply(200, yaml, { 'content-type': 'text/plain; charset=utf-8' }),
  comment: (issue: number, check: (body: string) => boolean, status = 201) =>
    nock(API)
      .post(`${ISSUE}/${issue}/comments`, (b: { body: string }) => check(b.body))
      .reply(status, status < 300 ? { id: Math.floor(Math.random() * 1e9) } : { message: 'boom' }),
  listComments: (issue: number, comments: unknown[] = []) =>
    nock(API).get(`${ISSUE}/${issue}/comments`).query(true).reply(200, comments),
  labels: (issue: number, labels: string[]) =>
    nock(API)
      .post(`${ISSUE}/${issue}/labels`, (b: { labels: string[] }) => sameSet(b.labels, labels))
      .reply(
        200,
        labels.map((name) => ({ name })),
      ),
  /** `GET /issues/{n}`: the ticket read (once) before its labels and state are written. */
  getIssue: (
    issue: number,
    labels: string[],
    state: { state: 'open' | 'closed'; reason?: string } = { state: 'open' },
  ) =>
    nock(API)
      .get(`${ISSUE}/${issue}`)
      .reply(200, {
        number: issue,
        state: state.state,
        state_reason: state.reason ?? null,
        labels: labels.map((name, i) => ({ id: i + 1, name })),
      }),
  /**
   * `PATCH /issues/{n}` with exactly this whole label set and, with `close`, `state: closed` and
   * that `state_reason` (without it, no state at all): one write for labels and closing.
   */
  updateIssue: (issue: number, labels: string[], close?: 'completed' | 'not_planned') =>
    nock(API)
      .patch(`${ISSUE}/${issue}`, (b: { labels?: string[]; state?: string; state_reason?: string }) => {
        const state = close ? b.state === 'closed' && b.state_reason === close : b.state === undefined;
        return Array.isArray(b.labels) && sameSet(b.labels, labels) && state;
      })
      .reply(200, { number: issue, state: close ? 'closed' : 'open' }),
  /**
   * A decision's housekeeping after its comment: the ticket read once, then one PATCH that
   * replaces our state label with `label` (keeping `others`' labels) and closes it.
   */
  decided: (
    issue: number,
    label: 'approved' | 'rejected' | 'expired',
    close: 'completed' | 'not_planned',
    others: string[] = ['certificate-approval'],
  ) => [
    github.getIssue(issue, [...others, 'awaiting-approval']),
    github.updateIssue(issue, [...others, label], close),
  ],
  teamMember: (org: string, team: string, login: string, member: boolean) =>
    nock(API)
      .get(`/orgs/${org}/teams/${team}/memberships/${login}`)
      .reply(member ? 200 : 404, member ? { state: 'active', role: 'member' } : { message: 'Not Found' }),
};

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export interface BotHarness {
  url: string;
  /** QUEUE_PREFIX and DATABASE_URL of this service (another process may share them). */
  env: Record<string, string>;
  service: RunningService;
  deliver(event: string, payload: unknown, deliveryId?: string): Promise<Response>;
  call<T>(verb: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: T }>;
  close(): Promise<void>;
}

/** The whole service (web and workers) on real PostgreSQL and Redis, with GitHub behind nock. */
export async function startBot(
  options: {
    dayMs?: number;
    env?: Record<string, string>;
    logger?: Logger;
    /** Probot's own Octokit, throttling and retries on, as in production (slower: ~1-3 s a write). */
    productionOctokit?: boolean;
  } = {},
): Promise<BotHarness> {
  const databaseUrl = await createPostgresDatabase();
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs1',
    format: 'pem',
  }) as string;
  const env: Record<string, string> = {
    PORT: '0',
    DATA_DIR: await tempDir('ons-certs-bot-'),
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: `test-bot-${randomUUID()}`,
    CA_CERT_PATH: join(CA_DIR, 'ca.pem'),
    CA_KEY_PATH: join(CA_DIR, 'ca.key'),
    CSR_MIN_RSA_BITS: '2048',
    ADMIN_TOKEN: ADMIN,
    APP_ID: String(APP_ID),
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET,
    PUBLIC_URL: 'https://certs.example.com',
    ...(process.env['REDIS_URL'] ? { REDIS_URL: process.env['REDIS_URL'] } : {}),
    ...options.env,
  };
  // TEST_LOG_LEVEL=debug shows what the service does while a test runs.
  const level = (process.env['TEST_LOG_LEVEL'] ?? 'silent') as Parameters<typeof createLogger>[0];
  const service = await startService(loadConfig(env), options.logger ?? createLogger(level), {
    github: options.productionOctokit ? {} : { Octokit: TestOctokit },
    dayMs: options.dayMs ?? 24 * 3600_000,
  });
  const url = service.url;
  return {
    url,
    env,
    service,
    deliver: (event, payload, deliveryId = randomUUID()) => {
      const body = JSON.stringify(payload);
      const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
      return fetch(`${url}/api/github/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': event,
          'x-github-delivery': deliveryId,
          'x-hub-signature-256': signature,
        },
        body,
      });
    },
    async call<T>(verb: string, path: string, token: string, body?: unknown) {
      const { status, json } = await httpCall<T>(`${url}${path}`, verb, token, body);
      return { status, json };
    },
    async close() {
      await service.close();
      await dropPostgresDatabase(databaseUrl);
    },
  };
}

/** Waits until `check` passes (or throws its last error after `ms`). */
export async function eventually(check: () => void | Promise<void>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
