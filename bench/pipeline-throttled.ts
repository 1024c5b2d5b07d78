import { setTimeout as sleep } from 'node:timers/promises';
import {
  approvePayload,
  CONNECTOR,
  csrPool4096,
  githubHelpers,
  openTickets,
  stagingCodes,
  startWorld,
  type Ticket,
} from './pipeline.ts';
import { DEFAULT_WRITE_PACE as PACE } from '../src/core/github-write-pace.ts';
import { latencyLine, percentile, ratioLine } from './support.ts';

/** Decisions made one at a time, each with GitHub's write limiter idle. */
const ONE_BY_ONE = 5;
/** Approvals delivered at once, then drained by the github queue at the allowed rate. */
const BURST = Number(process.env.BENCH_BURST ?? 20);
/** GitHub's secondary limit for content-creating requests, per minute (docs/performance.md). */
const GITHUB_WRITES_PER_MINUTE = 80;
/** A pause longer than any pace step, so the next decision meets an idle write limiter. */
const COMMENT_SPACING_MS = 3000;
/** Issue 15's targets. */
const TARGET = { writesPerApproval: 2, drainRatio: 0.9, decisionP50Ms: 1000 };

/**
 * The ticket pipeline as production runs it: Probot's own Octokit, throttling and retries ON,
 * against the local stand-in for GitHub (docs/performance.md, "GitHub is rate-limited by
 * design"). Three figures: the latency of one decision (the `/approve` delivery to the PEM
 * comment, with the limiter idle); the writes each approval costs (GitHub's limit counts
 * those); and how fast a burst of approvals drains against what GitHub's ~80 writes a minute
 * allow at that cost, never faster, losing nothing.
 */
export async function runThrottledPipelineBenchmark(): Promise<string[]> {
  const helpers = await githubHelpers();

  const codes = stagingCodes(ONE_BY_ONE + BURST);
  const csrs = await csrPool4096(codes.map((code) => `${CONNECTOR}-${code}-bench`));
  const tickets: Ticket[] = codes.map((customerCode, i) => ({
    number: 101 + i,
    customerCode,
    csr: csrs[i]!,
  }));
  const world = await startWorld(helpers, codes, { BENCH_THROTTLE: 'on' });
  const { standIn } = world;
  const approve = (t: Ticket) => world.deliver('issue_comment', JSON.parse(approvePayload(helpers, t)));
  try {
    // Intake: one comment and one label per ticket, spaced by the limiter.
    await openTickets(helpers, world, tickets, tickets.length * 2 * COMMENT_SPACING_MS + 60_000);

    const latencies: number[] = [];
    for (const t of tickets.slice(0, ONE_BY_ONE)) {
      // The previous ticket's writes are done and the comment limiter has had its pause.
      await sleep(COMMENT_SPACING_MS + 200);
      const sent = performance.timeOrigin + performance.now();
      await approve(t);
      await standIn.until(() => standIn.at(t.number).pem !== undefined, 60_000, 'the PEM comment');
      latencies.push(standIn.at(t.number).pem! - sent);
      await standIn.until(() => standIn.at(t.number).closed !== undefined, 60_000, 'closing the ticket');
    }

    await sleep(COMMENT_SPACING_MS + 200);
    const burst = tickets.slice(ONE_BY_ONE);
    const writesBefore = standIn.writes().length;
    const started = performance.timeOrigin + performance.now();
    await Promise.all(burst.map(approve));
    await standIn.until(
      () => burst.every((t) => standIn.at(t.number).pem && standIn.at(t.number).closed),
      BURST * 2 * COMMENT_SPACING_MS + 120_000,
      'PEM comments and closing of the burst',
    );
    // Anything still on its way (a stray write after closing would count against the limit).
    await sleep(2000);
    for (const t of burst) {
      const { labels, state, reason } = standIn.ticket(t.number);
      if (labels.join() !== 'certificate-approval,approved' || state !== 'closed' || reason !== 'completed')
        throw new Error(`pipeline: ticket ${t.number} ended ${state}/${reason} with labels ${labels.join()}`);
    }
    const writes = standIn.writes().slice(writesBefore);
    const gaps = (list: { at: number }[]) => list.slice(1).map((w, i) => w.at - list[i]!.at);
    const writeGaps = gaps(writes.filter((w) => !w.comment));
    const allGaps = gaps(writes);
    if (process.env.BENCH_DEBUG) for (const w of writes) console.log((w.at - started).toFixed(0), w.what);
    const commentGaps = gaps(writes.filter((w) => w.comment));
    const doneAt = Math.max(
      ...burst.map((t) => Math.max(standIn.at(t.number).pem!, standIn.at(t.number).closed!)),
    );
    const minutes = (doneAt - started) / 60_000;
    const writesPerApproval = writes.length / BURST;
    const approvalsPerMinute = BURST / minutes;
    const allowedPerMinute = GITHUB_WRITES_PER_MINUTE / writesPerApproval;
    const writesPerMinute = writes.length / minutes;
    const lastPem = Math.max(...burst.map((t) => standIn.at(t.number).pem!));
    const kinds = new Map<string, number>();
    for (const w of writes) {
      const kind = w.what.replace(/\/\d+/g, '/{n}');
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    const p50 = percentile(latencies, 50);
    const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
    return [
      latencyLine('pipeline.throttled-decision', latencies, [
        `one /approve at a time with Octokit's throttling ON as in production and its limiter idle (target p50 < ${TARGET.decisionP50Ms} ms: ${verdict(p50 < TARGET.decisionP50Ms)})`,
        'from the signed webhook POST to the PEM comment reaching the local stand-in for GitHub',
      ]),
      `pipeline.throttled-writes: ${writesPerApproval.toFixed(2)} writes per approval ` +
        `(target <= ${TARGET.writesPerApproval}: ${verdict(writesPerApproval <= TARGET.writesPerApproval)}); ` +
        `${writes.length} mutating requests for ${BURST} approvals: ` +
        [...kinds].map(([kind, n]) => `${kind} ×${n}`).join(', '),
      ratioLine('pipeline.throttled-burst', approvalsPerMinute / allowedPerMinute, TARGET.drainRatio, [
        `${BURST} approvals delivered at once drained (PEM comment and closing) at ${approvalsPerMinute.toFixed(1)}/min ` +
          `against the ${allowedPerMinute.toFixed(1)}/min GitHub's ~${GITHUB_WRITES_PER_MINUTE} writes/min allow at ` +
          `${writesPerApproval.toFixed(2)} writes per approval`,
        `writes reached GitHub at ${writesPerMinute.toFixed(1)}/min (must stay below ${GITHUB_WRITES_PER_MINUTE}: ` +
          `${writesPerMinute < GITHUB_WRITES_PER_MINUTE ? 'yes' : 'NO'})`,
        `writes paced at GITHUB_WRITES_PER_MINUTE=${PACE.perMinute} (${(60_000 / PACE.perMinute).toFixed(0)} ms apart, ` +
          `any kind): smallest gap between two writes ${Math.min(...allGaps).toFixed(0)} ms, between two comments ` +
          `${Math.min(...commentGaps).toFixed(0)} ms, between two other writes ${Math.min(...writeGaps).toFixed(0)} ms`,
        `last PEM comment ${((lastPem - started) / 1000).toFixed(1)} s and last closing ${((doneAt - started) / 1000).toFixed(1)} s ` +
          `after the burst, all ${BURST} tickets answered, labelled and closed`,
      ]),
    ];
  } finally {
    await world.close();
  }
}
