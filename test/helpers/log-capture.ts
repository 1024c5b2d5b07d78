import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.ts';

/** A service logger whose JSON lines are kept in memory, for tests that read the log. */
export interface CapturedLog {
  logger: Logger;
  /** Every line written so far (pino's JSON, one object per line). */
  lines(): string[];
  /** The parsed lines. */
  entries(): Record<string, unknown>[];
  /** Everything written so far, as one string. */
  text(): string;
  /** Forgets what was written so far. */
  clear(): void;
}

/** A logger at `level` (default debug: the strictest test of what reaches the log) writing to memory. */
export function captureLog(level: Parameters<typeof createLogger>[0] = 'debug'): CapturedLog {
  let chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.length > 0);
  return {
    logger: createLogger(level, sink),
    lines,
    entries: () => lines().map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => chunks.join(''),
    clear: () => {
      chunks = [];
    },
  };
}
