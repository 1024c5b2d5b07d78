/** How long a step took, for a person reading the log: `350 ms`, `4.2 s`. */
export function humanDuration(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`;
}
