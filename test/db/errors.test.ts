import { describe, expect, it } from 'vitest';
import { isConnectionFailure, retryOnConnectionFailure } from '../../src/db/errors.ts';

/** An error as drizzle wraps the driver's: "Failed query: …" with the driver's error as cause. */
const wrapped = (cause: object) => Object.assign(new Error('Failed query: select 1'), { cause });

describe('failed connections', () => {
  it.each([
    ['a reset socket', wrapped({ code: 'ECONNRESET', errno: -104 })],
    ["postgres.js's closed connection", wrapped({ code: 'CONNECTION_CLOSED' })],
    ['a refused connection', { code: 'ECONNREFUSED' }],
    ['PostgreSQL shutting down (57P01)', wrapped({ code: '57P01', severity: 'FATAL' })],
    ['PostgreSQL starting (57P03)', wrapped({ code: '57P03' })],
    ['a connection exception (08006)', wrapped({ code: '08006' })],
  ])('counts %s as a failed connection', (_, error) => {
    expect(isConnectionFailure(error)).toBe(true);
  });

  it.each([
    ['a unique violation', wrapped({ code: '23505' })],
    ['a syntax error', wrapped({ code: '42601' })],
    ['a plain error', new Error('ECONNRESET')],
    ['nothing', undefined],
  ])('does not count %s', (_, error) => {
    expect(isConnectionFailure(error)).toBe(false);
  });

  it('runs the work again after each delay while the connection fails, then gives up', async () => {
    let calls = 0;
    const seen: number[] = [];
    const failing = () => {
      calls++;
      return Promise.reject(wrapped({ code: 'ECONNRESET' }));
    };
    const error = await retryOnConnectionFailure(failing, (_, delay) => seen.push(delay), [1, 2]).catch(
      (e: unknown) => e,
    );
    expect(isConnectionFailure(error)).toBe(true);
    expect([calls, seen]).toEqual([3, [1, 2]]);

    let tries = 0;
    const recovers = () =>
      ++tries < 3 ? Promise.reject(wrapped({ code: '57P01' })) : Promise.resolve('done');
    expect(await retryOnConnectionFailure(recovers, undefined, [1, 1, 1])).toBe('done');
    expect(tries).toBe(3);
  });

  it('does not run the work again for an error of the statement itself', async () => {
    let calls = 0;
    const refused = () => {
      calls++;
      return Promise.reject(wrapped({ code: '23505' }));
    };
    await expect(retryOnConnectionFailure(refused, undefined, [1, 1])).rejects.toThrow('Failed query');
    expect(calls).toBe(1);
  });
});
