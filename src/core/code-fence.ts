/** A Markdown code fence as CommonMark reads it: ``` or ~~~, three or more, indented 0-3 spaces. */
export interface Fence {
  char: string;
  length: number;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/s;

/** The fence a line opens, if it opens one (a backtick fence's info string holds no backtick). */
export function openFence(line: string): Fence | undefined {
  const match = FENCE.exec(line);
  const run = match?.[1] ?? '';
  if (!match || (run[0] === '`' && (match[2] ?? '').includes('`'))) return undefined;
  return { char: run[0] ?? '', length: run.length };
}

/** Whether a line closes `fence`: the same character, at least as long, nothing after it. */
export function closesFence(fence: Fence, line: string): boolean {
  const match = FENCE.exec(line);
  const run = match?.[1] ?? '';
  return run[0] === fence.char && run.length >= fence.length && (match?.[2] ?? '').trim() === '';
}
