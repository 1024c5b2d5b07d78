import { describe, expect, it } from 'vitest';
import { findPemBlocks, findPemMarkers, toPem } from '../../src/ca/pem.ts';
import { readCsr } from '../helpers/fixtures.ts';

const KIB_64 = 64 * 1024;

/** The fastest of a few runs, in milliseconds (the least disturbed by a busy machine). */
function fastest(run: () => void, times = 7): number {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

describe('finding PEM blocks', () => {
  it('finds blocks by label, with their DER, and text around them does not matter', async () => {
    const csr = (await readCsr('valid-development.csr')).toString();
    const blocks = findPemBlocks(`some words\r\n${csr.replace(/\n/g, '\r\n')}\0trailing`);
    expect(blocks.map((b) => b.label)).toEqual(['CERTIFICATE REQUEST']);
    expect(toPem('CERTIFICATE REQUEST', blocks[0]!.der!)).toBe(csr);
  });

  it('pairs a BEGIN only with the END of its own label right after it; a lone BEGIN is only a marker', () => {
    const der = Buffer.from([0x30, 0x00]);
    const text = `-----BEGIN A-----\n${toPem('B', der)}-----END A-----\n-----BEGIN C-----\nAAAA\n`;
    expect(findPemBlocks(text)).toEqual([{ label: 'B', der }]);
    expect(findPemMarkers(text).map((m) => `${m.kind} ${m.label}`)).toEqual([
      'BEGIN A',
      'BEGIN B',
      'END B',
      'END A',
      'BEGIN C',
    ]);
    expect(findPemBlocks('-----BEGIN X-----\n!!!!\n-----END X-----')).toEqual([
      { label: 'X', der: undefined },
    ]);
  });

  it('takes linear time on hostile input: 64 KiB of BEGIN lines costs about what 64 KiB of PEM does', async () => {
    const hostile = '-----BEGIN A-----\r\n'.repeat(Math.floor(KIB_64 / 19));
    const csr = (await readCsr('valid-development.csr')).toString();
    const plain = csr.repeat(Math.floor(KIB_64 / csr.length));
    expect(findPemBlocks(plain).length).toBeGreaterThan(20);
    for (const input of [hostile, plain]) findPemBlocks(input); // warm up the JIT
    const ratio = fastest(() => findPemBlocks(hostile)) / fastest(() => findPemBlocks(plain));
    // The former back-referencing regex took ~200 ms here, some 100x the plain input.
    expect(ratio).toBeLessThan(10);
  });
});
