/** Milliseconds per unit of a duration as `ons-certs renew --before` takes it. */
const UNITS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const PART = /(\d{1,6})([smhdw])/y;
/** Longer than any certificate we issue (one year) by far, and far from overflowing a Date. */
const MAX_MS = 100 * 365 * 86_400_000;

export type ParsedDuration = { ok: true; ms: number } | { ok: false; message: string };

/**
 * Reads a duration such as `30d`, `12h`, `90m`, `45s`, `2w` or `1d12h` (whole numbers, each with
 * a unit: s, m, h, d, w). A bare number is refused: `--before 30` could mean days or seconds.
 */
export function parseDuration(text: string): ParsedDuration {
  const refused: ParsedDuration = {
    ok: false,
    message: `"${text.slice(0, 40)}" is not a duration: use a number with a unit, e.g. 30d, 12h, 90m, 45s, 2w or 1d12h`,
  };
  if (text.length === 0) return refused;
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (!match) return refused;
    ms += Number(match[1]) * UNITS[match[2]!]!;
  }
  if (ms === 0) return { ok: false, message: `"${text}" is zero: give a duration greater than zero` };
  if (ms > MAX_MS) return { ok: false, message: `"${text}" is longer than 100 years` };
  return { ok: true, ms };
}

/**
 * A duration in words for messages, rounded down to its largest units: `243 days`, `6 days 4 h`,
 * `3 h 12 min`, `12 min`, `40 s`. Negative durations are shown as their size.
 */
export function formatDuration(ms: number): string {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = total % 60;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (days >= 30) return plural(days, 'day');
  if (days > 0) return hours > 0 ? `${plural(days, 'day')} ${hours} h` : plural(days, 'day');
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return `${minutes} min`;
  return `${seconds} s`;
}

/** How long a step took, for a person reading the log: `350 ms`, `4.2 s`. */
export function humanDuration(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`;
}
