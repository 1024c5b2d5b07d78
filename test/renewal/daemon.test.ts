import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runDaemon, type CheckResult } from '../../src/renewal/daemon.ts';

const signals = () => new EventEmitter() as unknown as NodeJS.Process & EventEmitter;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runDaemon', () => {
  it('backs off after failures (doubling, capped), back to the interval after a success', async () => {
    const emitter = signals();
    const results: CheckResult[] = ['failed', 'failed', 'failed', 'failed', 'ok'];
    const times: number[] = [];
    const log: string[] = [];
    const done = runDaemon(
      async () => {
        times.push(Date.now());
        const next = results.shift();
        if (!next) emitter.emit('SIGTERM');
        return next ?? 'ok';
      },
      { intervalMs: 60, retryFirstMs: 20, retryMaxMs: 50, signals: emitter, log: (t) => log.push(t) },
    );
    await done;
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 20, 40, 50 (capped), 50, then the interval after the success.
    [20, 40, 50, 50, 60].forEach((ms, i) => expect(gaps[i]).toBeGreaterThanOrEqual(ms - 2));
    expect(gaps[0]).toBeLessThan(40);
    expect(log).toContain('failed 3 times in a row: next try in 0 s');
    expect(log).toContain('SIGTERM: stopping');
    expect(emitter.listenerCount('SIGHUP')).toBe(0);
  });

  it('SIGHUP checks at once with force; SIGTERM during a check lets it finish, then stops', async () => {
    const emitter = signals();
    const calls: boolean[] = [];
    let finished = 0;
    const done = runDaemon(
      async (force) => {
        calls.push(force);
        if (calls.length === 2) {
          emitter.emit('SIGTERM'); // arrives mid-check
          await sleep(30);
        }
        finished++;
        return 'ok';
      },
      { intervalMs: 3_600_000, signals: emitter, log: () => {} },
    );
    await sleep(20);
    emitter.emit('SIGHUP');
    await done;
    expect(calls).toStrictEqual([false, true]);
    expect(finished).toBe(2);
  });

  it('a SIGHUP during a check runs another, forced, right after it', async () => {
    const emitter = signals();
    const calls: boolean[] = [];
    await runDaemon(
      async (force) => {
        calls.push(force);
        if (calls.length === 1) emitter.emit('SIGHUP');
        if (calls.length === 2) return 'stop';
        return 'ok';
      },
      { intervalMs: 3_600_000, signals: emitter, log: () => {} },
    );
    expect(calls).toStrictEqual([false, true]);
  });
});
