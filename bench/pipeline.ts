import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createPostgresDatabase, dropPostgresDatabase } from '../test/helpers/database.ts';
import { CA_DIR, loadTestCa } from '../test/helpers/fixtures.ts';
import { caCertificatesPerSecond } from './ca.ts';
import { machineBusyMs, processCpuMs, programCpuMs, SERVERS } from './cpu-by-part.ts';
import { BENCH_DIR, percentile, ratioLine, tempDir } from './support.ts';

const APPROVALS = Number(process.env.BENCH_APPROVALS ?? 50);
/** How the service runs: `web+worker` (two processes, as docker-compose deploys it) or `all` (one). */
const LAYOUT = process.env.BENCH_PIPELINE_LAYOUT === 'all' ? 'all' : 'web+worker';
/**
 * Tickets approved before the measured burst, all at once, so that it meets a warm service: JIT,
 * the token cache, and the connection pools grown to the size a burst needs (a pool that is
 * still opening connections measures PostgreSQL's connection set-up, not the pipeline).
 */
const WARM_UP = 20;
const ROUNDS = 2;
export const ADMIN_TOKEN = 'bench-admin-token-0123456789';
export const CONNECTOR = 'hr_integration';
export const APPROVER = { login: 'alice', id: 7001 };
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PEM_MARKER = 'ons-certs:approved:';
const REQUEST_MARKER = 'ons-certs:approval-request:';

/** Epoch milliseconds with sub-millisecond resolution, comparable with BullMQ's job times. */
const now = () => performance.timeOrigin + performance.now();

export type GitHubHelpers = typeof import('../test/helpers/github.ts');

export interface Ticket {
  number: number;
  customerCode: string;
  csr: string;
  sentAt?: number;
  answeredAt?: number;
}

interface RoundResult {
  perSecond: number;
  latencies: number[];
  /** Used by the service's processes, in all and by process. */
  cpuCores: number;
  cpuByRole: string;
  /** Used by this process: the stand-in for GitHub and the webhook client. */
  benchCores: number;
  machineCores: number;
  /** PostgreSQL's and Redis's processes, by program. */
  serversCores: string;
  /** CPU milliseconds per approval, by part (service roles, servers, this process) and in all. */
  cpuMsPerApproval: Record<string, number>;
  allDoneMs: number;
  breakdown: string;
  perApproval: string;
}

/**
 * The ticket pipeline's internal capacity (docs/performance.md, "GitHub is rate-limited by
 * design"): many tickets approved at once through signed webhook POSTs over loopback, real
 * PostgreSQL and Redis, a local HTTP server standing in for the GitHub API, and Octokit's
 * throttling OFF. Approvals per second are compared with the CA-only rate measured in this run;
 * the latency is from the `/approve` delivery to the PEM comment reaching the stand-in.
 */
export async function runPipelineBenchmark(): Promise<string[]> {
  const helpers = await githubHelpers();

  const codes = stagingCodes(WARM_UP + APPROVALS);
  const csrs = await csrPool4096(codes.map((code) => `${CONNECTOR}-${code}-bench`));
  const tickets = (): Ticket[] =>
    codes.map((customerCode, i) => ({ number: 101 + i, customerCode, csr: csrs[i]! }));
  const ca = await loadTestCa();

  // Alternating rounds, best of each: other tenants of the machine slow either side at random.
  let caOnly = 0;
  const rounds: RoundResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    caOnly = Math.max(caOnly, await caCertificatesPerSecond(ca, 2));
    rounds.push(await pipelineRound(helpers, codes, tickets()));
  }
  const best = rounds.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const p50 = percentile(best.latencies, 50);
  const p99 = percentile(best.latencies, 99);
  const p99Verdict = p99 < 1000 ? 'met' : 'MISSED';
  return [
    // No target on the ratio (issue 15): GitHub's write limit, not our CPU, is what limits
    // approvals (bench/pipeline-throttled.ts); this shows the headroom and where the CPU goes.
    ratioLine('pipeline.approve', best.perSecond / caOnly, undefined, [
      `${best.perSecond.toFixed(1)} approvals/s for ${APPROVALS} concurrent /approve deliveries, Octokit throttling OFF ` +
        "(internal capacity, not GitHub's allowed rate: see docs/performance.md); signed webhook POSTs over loopback, " +
        `PostgreSQL, Redis, a local stand-in for the GitHub API; best of ${ROUNDS} rounds`,
      `CA-only ${caOnly.toFixed(1)} certificates/s (1 core, same RSA-4096 CA, best of ${ROUNDS} rounds)`,
      `delivery→PEM comment p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (target p99 < 1000 ms: ${p99Verdict})`,
      `service as ${LAYOUT} processes using ${best.cpuCores.toFixed(2)} of ${availableParallelism()} cores (${best.cpuByRole}); ` +
        `stand-in and client ${best.benchCores.toFixed(2)}; the whole machine ${best.machineCores.toFixed(2)} (${best.serversCores})`,
    ]),
    ...rounds.map(
      (r, i) =>
        `  round ${i + 1}: ${r.perSecond.toFixed(1)} approvals/s, p50 ${percentile(r.latencies, 50).toFixed(0)} ms, ` +
        `p99 ${percentile(r.latencies, 99).toFixed(0)} ms, service cores ${r.cpuCores.toFixed(2)} (${r.cpuByRole}; ${r.serversCores}; machine ${r.machineCores.toFixed(2)}); ` +
        `labels and closing of all ${APPROVALS} done ${r.allDoneMs.toFixed(0)} ms after the first delivery`,
    ),
    `  where the time goes (best round, p50/p99 ms): ${best.breakdown}; per approval ${best.perApproval}`,
    cpuLine(best, caOnly),
  ];
}

/**
 * Where the machine's CPU goes per approval: the service's processes, PostgreSQL, Redis and this
 * benchmark's own stand-in and client, and the whole machine.
 */
function cpuLine(best: RoundResult, caOnly: number): string {
  const parts = Object.entries(best.cpuMsPerApproval)
    .filter(([name]) => name !== 'machine')
    .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
    .join(', ');
  return (
    `  CPU per approval (best round, ms): ${parts}; the whole machine ${best.cpuMsPerApproval.machine!.toFixed(1)} ` +
    `(the worker's includes the RSA-4096 signature, ~${(1000 / caOnly).toFixed(1)} ms on one core)`
  );
}

/**
 * The GitHub test helpers (payloads, signatures), without nock: it patches http and fetch when
 * imported, and the pipeline benchmarks talk over real loopback sockets, so the patches come off
 * again at once (and only here, so the other benchmarks never run under them).
 */
export async function githubHelpers(): Promise<GitHubHelpers> {
  const helpers = await import('../test/helpers/github.ts');
  const { default: nock } = await import('nock');
  if (nock.isActive()) nock.restore();
  return helpers;
}

async function pipelineRound(
  helpers: GitHubHelpers,
  codes: string[],
  tickets: Ticket[],
): Promise<RoundResult> {
  const world = await startWorld(helpers, codes, {});
  const { standIn, service, agent, base, prefix } = world;
  try {
    await openTickets(helpers, world, tickets, 180_000);
    const approve = (t: Ticket) => approvePayload(helpers, t);
    const warmUp = tickets.slice(0, WARM_UP);
    const measured = tickets.slice(WARM_UP);
    await Promise.all(
      warmUp.map((t) => signedPost(agent, base, helpers.WEBHOOK_SECRET, 'issue_comment', approve(t))),
    );
    await standIn.until(
      () => warmUp.every((t) => standIn.at(t.number).closed !== undefined),
      60_000,
      'the warm-up approvals',
    );

    // The measured burst: payloads made and signed beforehand, then all delivered at once.
    const bodies = measured.map(approve);
    const callsBefore = standIn.count();
    const redisBefore = await redisCommands();
    const profiler = await startProfiler();
    const cpuBefore = process.cpuUsage();
    const serviceCpuBefore = await service.cpuMs();
    const machineBefore = machineBusyMs();
    const serversBefore = await programCpuMs(SERVERS);
    await Promise.all(
      measured.map(async (t, i) => {
        t.sentAt = now();
        await signedPost(agent, base, helpers.WEBHOOK_SECRET, 'issue_comment', bodies[i]!);
        t.answeredAt = now();
      }),
    );
    await standIn.until(() => measured.every((t) => standIn.at(t.number).pem), 120_000, 'PEM comments');
    const cpu = process.cpuUsage(cpuBefore);
    const serviceCpuAfter = await service.cpuMs();
    const serviceCpu = Object.fromEntries(
      Object.entries(serviceCpuAfter).map(([role, ms]) => [role, ms - (serviceCpuBefore[role] ?? 0)]),
    );
    const machineBusy = machineBusyMs() - machineBefore;
    const serversAfter = await programCpuMs(SERVERS);
    await profiler?.();
    const firstSent = Math.min(...measured.map((t) => t.sentAt!));
    const lastPem = Math.max(...measured.map((t) => standIn.at(t.number).pem!));
    await standIn.until(
      () => measured.every((t) => standIn.at(t.number).closed),
      120_000,
      'closing the tickets',
    );
    const allDone = Math.max(...measured.map((t) => standIn.at(t.number).closed!));
    const perApproval =
      `${((standIn.count() - callsBefore) / measured.length).toFixed(1)} GitHub API calls and ` +
      `${(((await redisCommands()) - redisBefore) / measured.length).toFixed(0)} Redis commands ` +
      '(server-wide, counting those inside BullMQ scripts)';
    const seconds = (lastPem - firstSent) / 1000;
    const perApprovalMs = (ms: number) => ms / measured.length;
    const cpuMsPerApproval: Record<string, number> = {
      ...Object.fromEntries(Object.entries(serviceCpu).map(([role, ms]) => [role, perApprovalMs(ms)])),
      ...Object.fromEntries(
        SERVERS.map((name) => [name, perApprovalMs(serversAfter[name]! - serversBefore[name]!)]),
      ),
      'stand-in and client': perApprovalMs((cpu.user + cpu.system) / 1000),
      machine: perApprovalMs(machineBusy),
    };
    return {
      cpuMsPerApproval,
      perSecond: measured.length / seconds,
      latencies: measured.map((t) => standIn.at(t.number).pem! - t.sentAt!),
      cpuCores: Object.values(serviceCpu).reduce((a, b) => a + b, 0) / 1000 / seconds,
      cpuByRole: Object.entries(serviceCpu)
        .map(([role, ms]) => `${role} ${(ms / 1000 / seconds).toFixed(2)}`)
        .join(', '),
      benchCores: (cpu.user + cpu.system) / 1e6 / seconds,
      machineCores: machineBusy / 1000 / seconds,
      serversCores: SERVERS.map(
        (name) => `${name} ${((serversAfter[name]! - serversBefore[name]!) / 1000 / seconds).toFixed(2)}`,
      ).join(', '),
      allDoneMs: allDone - firstSent,
      breakdown: await breakdown(prefix, measured, standIn),
      perApproval,
    };
  } finally {
    await world.close();
  }
}

/** Intake (not measured): every ticket opened, and its approvers asked on the stand-in. */
export async function openTickets(
  helpers: GitHubHelpers,
  world: World,
  tickets: Ticket[],
  timeoutMs: number,
): Promise<void> {
  const { standIn } = world;
  await Promise.all(
    tickets.map((t) =>
      world.deliver(
        'issues',
        helpers.issueEvent('opened', { number: t.number, body: ticketBody(helpers, t) }),
      ),
    ),
  );
  await standIn.until(
    () => tickets.every((t) => standIn.at(t.number).asked && standIn.at(t.number).labelled),
    timeoutMs,
    'approval-request comments and awaiting-approval labels',
  );
}

const ticketBody = (helpers: GitHubHelpers, t: Ticket) =>
  helpers.ticketBody({ connector: CONNECTOR, version: '1.0', customerCode: t.customerCode, csr: t.csr });

/** The `issue_comment` delivery of alice's `/approve` on a ticket, as JSON. */
export function approvePayload(helpers: GitHubHelpers, t: Ticket): string {
  return JSON.stringify(
    helpers.commentEvent(
      {
        number: t.number,
        body: ticketBody(helpers, t),
        labels: ['certificate-approval', 'awaiting-approval'],
      },
      { id: 9_000_000 + t.number, body: '/approve', user: APPROVER },
    ),
  );
}

export interface World {
  standIn: StandIn;
  service: ServiceProcesses;
  agent: Agent;
  base: string;
  prefix: string;
  deliver(event: string, payload: unknown): Promise<void>;
  close(): Promise<void>;
}

/**
 * A fresh world for one round: the stand-in for GitHub, a new database and queue prefix, the
 * service as its own processes (as deployed, docker-compose: app + worker, so that the stand-in
 * and the webhook client in this process do not share its event loop), seeded with a supplier
 * and an approved connector version.
 */
export async function startWorld(
  helpers: GitHubHelpers,
  codes: string[],
  extraEnv: Record<string, string>,
): Promise<World> {
  const standIn = await startStandIn(helpers, approversYaml(codes));
  const databaseUrl = await createPostgresDatabase();
  const dataDir = await tempDir();
  const prefix = `bench-pipeline-${randomUUID()}`;
  const agent = new Agent({ keepAlive: true, maxSockets: codes.length });
  let service: ServiceProcesses | undefined;
  const close = async () => {
    agent.destroy();
    await service?.close();
    await standIn.close();
    await dropPostgresDatabase(databaseUrl);
    await deleteQueueKeys(prefix);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs1',
      format: 'pem',
    }) as string;
    service = await startProcesses({
      PORT: '0',
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      CA_CERT_PATH: join(CA_DIR, 'ca.pem'),
      CA_KEY_PATH: join(CA_DIR, 'ca.key'),
      CSR_MIN_RSA_BITS: '4096',
      ADMIN_TOKEN,
      APP_ID: String(helpers.APP_ID),
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: helpers.WEBHOOK_SECRET,
      PUBLIC_URL: 'https://certs.example.com',
      LOG_LEVEL: 'warn',
      BENCH_GITHUB_URL: standIn.url,
      ...extraEnv,
    });
    const base = service.url;
    await seed(base);
    return {
      standIn,
      service,
      agent,
      base,
      prefix,
      deliver: (event, payload) =>
        signedPost(agent, base, helpers.WEBHOOK_SECRET, event, JSON.stringify(payload)),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export interface ServiceProcesses {
  url: string;
  /** CPU time (ms) each of the service's processes has used so far, by role. */
  cpuMs(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** Starts the service's processes (bench/pipeline-service.ts) and waits until each is ready. */
export async function startProcesses(env: Record<string, string>): Promise<ServiceProcesses> {
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const roles = LAYOUT === 'all' ? ['all'] : ['web', 'worker'];
  const children: ChildProcess[] = [];
  const close = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        await once(child, 'exit');
      }),
    );
  };
  try {
    const urls = await Promise.all(
      roles.map(async (role) => {
        const child = spawn(process.execPath, [...profile, 'bin/run-ts.js', 'bench/pipeline-service.ts'], {
          env: { ...process.env, ...env, WORKERS: role },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        return readyLine(child, role);
      }),
    );
    const url = urls.find((u) => u !== '');
    if (!url) throw new Error('pipeline: no service process serves HTTP');
    return {
      url,
      cpuMs: async () =>
        Object.fromEntries(
          await Promise.all(children.map(async (c, i) => [roles[i]!, await processCpuMs(c.pid!)] as const)),
        ),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The URL a service process prints when it is ready ('' for a worker process). */
async function readyLine(child: ChildProcess, role: string): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pipeline: the ${role} process did not start`)), 60_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      output += chunk;
      const match = /^ready ?(\S*)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? '');
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pipeline: the ${role} process ended (${code}) before it was ready`));
    });
  });
}

/** The supplier (with the ticket author's login), its connector, and version 1.0 approved by Nedap. */
export async function seed(base: string): Promise<void> {
  const post = async (path: string, token: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  };
  const supplier = await post('/api/admin/suppliers', ADMIN_TOKEN, {
    name: 'Bench Software B.V.',
    email: 'pki@example.com',
    githubLogins: ['supplier-dev'],
  });
  const token = String(supplier['token']);
  await post('/api/connectors', token, { technicalName: CONNECTOR, name: 'HR' });
  await post(`/api/connectors/${CONNECTOR}/versions`, token, { version: '1.0' });
  await post(`/api/admin/connectors/${CONNECTOR}/versions/1.0/approve`, ADMIN_TOKEN);
}

/** Per stage, p50/p99 over the measured tickets, from the stand-in's clock and BullMQ's job times. */
async function breakdown(prefix: string, measured: Ticket[], standIn: StandIn): Promise<string> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const signing = new Queue('signing', { connection, prefix });
  const github = new Queue('github', { connection, prefix });
  try {
    const byTicket = async (queue: Queue, idPrefix: string) => {
      const jobs = await queue.getJobs(['completed'], 0, -1);
      return new Map(
        jobs
          .filter((j) => j.id?.startsWith(idPrefix))
          .map((j) => [(j.data as { ticket: { number: number } }).ticket.number, j]),
      );
    };
    const signJobs = await byTicket(signing, 'sign-');
    const ghJobs = await byTicket(github, 'github-approved-');
    const stages: Record<string, number[]> = {
      'webhook answered': [],
      'delivery→signing job added': [],
      'signing queue wait': [],
      'signing job': [],
      'github queue wait': [],
      'github job start→PEM comment': [],
    };
    for (const t of measured) {
      const sign = signJobs.get(t.number);
      const gh = ghJobs.get(t.number);
      stages['webhook answered']!.push(t.answeredAt! - t.sentAt!);
      if (!sign || !gh || !sign.processedOn || !sign.finishedOn || !gh.processedOn) continue;
      stages['delivery→signing job added']!.push(sign.timestamp - t.sentAt!);
      stages['signing queue wait']!.push(sign.processedOn - sign.timestamp);
      stages['signing job']!.push(sign.finishedOn - sign.processedOn);
      stages['github queue wait']!.push(gh.processedOn - gh.timestamp);
      stages['github job start→PEM comment']!.push(standIn.at(t.number).pem! - gh.processedOn);
    }
    return Object.entries(stages)
      .map(([name, s]) => `${name} ${percentile(s, 50).toFixed(0)}/${percentile(s, 99).toFixed(0)}`)
      .join(', ');
  } finally {
    await signing.close();
    await github.close();
    connection.disconnect();
  }
}

/** Commands Redis has run since it started (INFO commandstats): a round-trip count, roughly. */
async function redisCommands(): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    const info = await redis.info('commandstats');
    return [...info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  } catch {
    return NaN;
  } finally {
    redis.disconnect();
  }
}

/** `count` staging customer codes TE1000, TE1001, TE1003, ... (TE1002 is development). */
export function stagingCodes(count: number): string[] {
  const codes: string[] = [];
  for (let n = 1000; codes.length < count; n++) if (n !== 1002) codes.push(`TE${n}`);
  return codes;
}

/**
 * With BENCH_CPU_PROF=<dir>, a CPU profile of this process's main thread during the measured
 * burst only (open it in Chrome DevTools or speedscope); the returned function writes it.
 */
async function startProfiler(): Promise<(() => Promise<void>) | undefined> {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `pipeline-${Date.now()}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}

/** One organisation, approver alice, for every code of the run. */
export function approversYaml(codes: string[]): string {
  return [
    'organisations:',
    '  - name: Zorggroep Bench',
    `    customer_codes: [${codes.join(', ')}]`,
    `    approvers: [${APPROVER.login}]`,
    'reminder_days: 3',
    'expire_days: 30',
    '',
  ].join('\n');
}

/**
 * One RSA-4096 CSR per common name (the CN names the customer code, and every line needs a key
 * of its own), made by OpenSSL once and kept in bench/.cache. bench/csr-pool.ts makes 2048-bit
 * keys, which CSR_MIN_RSA_BITS=4096 refuses.
 */
export async function csrPool4096(commonNames: string[]): Promise<string[]> {
  const dir = join(BENCH_DIR, '.cache', 'pipeline-rsa4096');
  await mkdir(dir, { recursive: true });
  const have = new Set(await readdir(dir));
  const missing = commonNames.filter((cn) => !have.has(`${cn}.csr`));
  const subjectRest =
    '/OU=Integrations/O=Example Software B.V./L=Enschede/ST=Overijssel/C=NL/emailAddress=pki@example.com';
  const run = promisify(execFile);
  const parallel = availableParallelism();
  for (let i = 0; i < missing.length; i += parallel) {
    await Promise.all(
      missing.slice(i, i + parallel).map(async (cn) => {
        const partial = join(dir, `${cn}.csr.partial`);
        await run('openssl', [
          'req',
          '-new',
          '-newkey',
          'rsa:4096',
          '-sha256',
          '-nodes',
          '-keyout',
          '/dev/null',
          '-out',
          partial,
          '-subj',
          `/CN=${cn}${subjectRest}`,
        ]);
        await rename(partial, join(dir, `${cn}.csr`));
      }),
    );
  }
  return Promise.all(commonNames.map((cn) => readFile(join(dir, `${cn}.csr`), 'utf8')));
}

/** What reached the stand-in for one ticket, and when (epoch ms). */
interface TicketCalls {
  asked?: number;
  labelled?: number;
  pem?: number;
  closed?: number;
}

export interface StandIn {
  url: string;
  at(issue: number): TicketCalls;
  /** Resolves once `done()` holds, checking after every request the stand-in answers. */
  until(done: () => unknown, timeoutMs: number, what: string): Promise<void>;
  /** Requests answered so far. */
  count(): number;
  /** A ticket's labels and state as the stand-in keeps them. */
  ticket(issue: number): { labels: string[]; state: string; reason: string | null };
  /** When each mutating request (not GET) arrived, and whether it created a comment. */
  writes(): { at: number; comment: boolean; what: string }[];
  close(): Promise<void>;
}

/**
 * A node:http server on 127.0.0.1 answering what the bot calls on GitHub, recording when each
 * ticket's comments, labels and closing arrive. Anything else gets a 404 and a warning.
 */
export async function startStandIn(helpers: GitHubHelpers, yaml: string): Promise<StandIn> {
  const calls = new Map<number, TicketCalls>();
  const at = (issue: number) => {
    let found = calls.get(issue);
    if (!found) calls.set(issue, (found = {}));
    return found;
  };
  /** Each ticket's labels and state as GitHub would keep them (opened with certificate-approval). */
  const issues = new Map<number, { labels: string[]; state: string; reason: string | null }>();
  const issueOf = (number: number) => {
    let found = issues.get(number);
    if (!found)
      issues.set(number, (found = { labels: ['certificate-approval'], state: 'open', reason: null }));
    return found;
  };
  const unexpected = new Map<string, number>();
  const waiters = new Set<() => void>();
  let commentId = 1;
  let requests = 0;
  const writes: { at: number; comment: boolean; what: string }[] = [];
  const repo = `/repos/${helpers.OWNER}/${helpers.REPO}`;
  const issuePath = new RegExp(`^${repo}/issues/(\\d+)(/.*)?$`);

  const answer = (method: string, path: string, body: string, res: ServerResponse) => {
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(value));
    };
    const arrived = now();
    if (method !== 'GET' && !path.startsWith('/app/')) {
      writes.push({
        at: arrived,
        comment: method === 'POST' && path.endsWith('/comments'),
        what: `${method} ${path}`,
      });
    }
    if (method === 'POST' && /^\/app\/installations\/\d+\/access_tokens$/.test(path))
      return json(201, { token: 'ghs_bench', expires_at: new Date(Date.now() + 3600_000).toISOString() });
    if (method === 'GET' && /\/contents\/\.github(%2F|\/)ons-certificates\.yml$/i.test(path)) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end(yaml);
    }
    if (method === 'POST' && new RegExp(`^${repo}/issues/comments/\\d+/reactions$`).test(path))
      return json(201, { id: 1, content: (JSON.parse(body) as { content: string }).content });
    if (method === 'GET' && /^\/orgs\/[^/]+\/teams\/[^/]+\/memberships\/[^/]+$/.test(path))
      return json(404, { message: 'Not Found' });
    const issue = issuePath.exec(path);
    if (issue) {
      const number = Number(issue[1]);
      const rest = issue[2] ?? '';
      if (method === 'POST' && rest === '/comments') {
        const text = (JSON.parse(body) as { body: string }).body;
        if (text.includes(PEM_MARKER)) at(number).pem ??= arrived;
        if (text.includes(REQUEST_MARKER)) at(number).asked ??= arrived;
        return json(201, { id: commentId++, body: text });
      }
      if (method === 'GET' && rest === '/comments') return json(200, []);
      const ticket = issueOf(number);
      const labelled = () => {
        if (ticket.labels.includes('awaiting-approval')) at(number).labelled ??= arrived;
        return ticket.labels.map((name) => ({ name }));
      };
      if (method === 'POST' && rest === '/labels') {
        const labels = (JSON.parse(body) as { labels: string[] }).labels;
        ticket.labels = [...new Set([...ticket.labels, ...labels])];
        return json(200, labelled());
      }
      if (method === 'DELETE' && rest.startsWith('/labels/')) {
        const name = decodeURIComponent(rest.slice('/labels/'.length));
        ticket.labels = ticket.labels.filter((l) => l !== name);
        return json(200, labelled());
      }
      const shown = () => ({ number, state: ticket.state, state_reason: ticket.reason, labels: labelled() });
      if (method === 'GET' && rest === '') return json(200, shown());
      if (method === 'PATCH' && rest === '') {
        const change = JSON.parse(body) as { labels?: string[]; state?: string; state_reason?: string };
        if (change.labels) ticket.labels = change.labels;
        if (change.state) ticket.state = change.state;
        if (change.state_reason) ticket.reason = change.state_reason;
        if (ticket.state === 'closed') at(number).closed ??= arrived;
        return json(200, shown());
      }
    }
    const key = `${method} ${path}`;
    if (!unexpected.has(key)) console.warn(`pipeline: the GitHub stand-in got an unexpected ${key}`);
    unexpected.set(key, (unexpected.get(key) ?? 0) + 1);
    return json(404, { message: 'Not Found' });
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests++;
      const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
      try {
        answer(req.method ?? 'GET', path, Buffer.concat(chunks).toString('utf8'), res);
      } catch (error) {
        res.writeHead(500).end(String(error));
      }
      for (const wake of [...waiters]) wake();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    at,
    until(done, timeoutMs, what) {
      if (done()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          const seen = [...unexpected].map(([k, n]) => `${k} ×${n}`).join(', ');
          reject(
            new Error(
              `pipeline: waited ${timeoutMs} ms for ${what}${seen ? `; unexpected calls: ${seen}` : ''}`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          if (!done()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    count: () => requests,
    ticket: (number) => structuredClone(issueOf(number)),
    writes: () => writes,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A webhook delivery as GitHub makes it: JSON body, event name, delivery id and HMAC signature. */
export function signedPost(
  agent: Agent,
  base: string,
  secret: string,
  event: string,
  body: string,
): Promise<void> {
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return new Promise((resolve, reject) => {
    const headers = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-github-event': event,
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': signature,
    };
    const req = request(`${base}/api/github/webhooks`, { method: 'POST', agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`webhook ${event}: ${res.statusCode} ${text}`)),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Removes the run's BullMQ keys (its QUEUE_PREFIX) from Redis; a Redis that is gone has none. */
export async function deleteQueueKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis was the service's own child and went with it.
  } finally {
    redis.disconnect();
  }
}
