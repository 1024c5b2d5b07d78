/** Where a command writes: stdout and stderr, passed in so commands stay testable. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** Wrong arguments: exit code 2 with the usage text. */
export class UsageError extends Error {}
