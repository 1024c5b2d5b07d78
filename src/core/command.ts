import { closesFence, openFence, type Fence } from './code-fence.ts';

/**
 * What a comment on a certificate approval ticket asks of the bot (product.md, "The ticket",
 * Commands). `unknown` is anything else starting with `/`, which gets a short explanatory reply.
 */
export type Command =
  | { kind: 'none' }
  | { kind: 'approve' }
  /** The reason may be '': the caller refuses a rejection without one. */
  | { kind: 'reject'; reason: string }
  /** `word` is the first word as typed, e.g. `/approved`, `/lgtm`, or `/approve` followed by more text. */
  | { kind: 'unknown'; word: string };

const NONE: Command = { kind: 'none' };

/**
 * Reads the command in a comment: its first non-blank line outside quotes, fenced or indented
 * code and HTML comments, case-insensitively. `/approve` must be that whole line, so a typo or
 * an afterthought (`/approve now`) is answered rather than taken as consent. `/reject` takes the
 * rest of the comment as its reason. Anything else on that line means no command, even when a
 * later line holds one: a command mentioned in passing is not a decision. Never throws.
 */
export function parseCommand(commentBody: string | null | undefined): Command {
  const text = typeof commentBody === 'string' ? commentBody : '';
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const reader = new LineReader();
  for (const [i, raw] of lines.entries()) {
    const visible = reader.visibleText(raw);
    if (visible === undefined) continue;
    const line = trimInvisible(visible);
    if (line === '') continue;
    if (!line.startsWith('/')) return NONE;
    return readCommand(line, lines.slice(i + 1));
  }
  return NONE;
}

function readCommand(line: string, following: string[]): Command {
  const word = /^\S+/.exec(line)?.[0] ?? line;
  const rest = line.slice(word.length);
  const verb = word.toLowerCase();
  if (verb === '/approve' && trimInvisible(rest) === '') return { kind: 'approve' };
  if (verb === '/reject') return { kind: 'reject', reason: trimInvisible([rest, ...following].join('\n')) };
  return { kind: 'unknown', word };
}

const QUOTE = /^ {0,3}>/;

/**
 * Follows the markdown constructs that can precede the command line and hide text from the
 * reader: fenced code, quotes, HTML comments (possibly over several lines) and indented code.
 */
class LineReader {
  private fence: Fence | undefined;
  private inHtmlComment = false;

  /** The line's visible text, or undefined when all of it is code, quote or comment. */
  visibleText(raw: string): string | undefined {
    let line = raw;
    if (this.fence) {
      if (closesFence(this.fence, line)) this.fence = undefined;
      return undefined;
    }
    if (this.inHtmlComment) {
      const end = line.indexOf('-->');
      if (end < 0) return undefined;
      this.inHtmlComment = false;
      line = line.slice(end + 3);
    } else {
      // Only blank lines, quotes, code and comments come before the command line, none of them
      // a paragraph, so an indented line here always starts indented code (never a continuation).
      if (indentWidth(line) >= 4 && trimInvisible(line) !== '') return undefined;
      const opened = openFence(line);
      if (opened) {
        this.fence = opened;
        return undefined;
      }
      if (QUOTE.test(line)) return undefined;
    }
    return this.withoutHtmlComments(line);
  }

  private withoutHtmlComments(line: string): string {
    let visible = '';
    let rest = line;
    for (;;) {
      const start = rest.indexOf('<!--');
      if (start < 0) return visible + rest;
      visible += rest.slice(0, start);
      // From start + 2, so that `<!-->` and `<!--->` close themselves, as in CommonMark.
      const end = rest.indexOf('-->', start + 2);
      if (end < 0) {
        this.inHtmlComment = true;
        return visible;
      }
      rest = rest.slice(end + 3);
    }
  }
}

/** Leading columns of spaces and tabs, a tab reaching the next multiple of 4 as in CommonMark. */
function indentWidth(line: string): number {
  let width = 0;
  for (const ch of line) {
    if (ch === ' ') width += 1;
    else if (ch === '\t') width += 4 - (width % 4);
    else break;
    if (width >= 4) break;
  }
  return width;
}

/** Zero-width characters look like nothing, so a line of them is blank and they never count. */
const INVISIBLE = /[\s\u180e\u200b-\u200d\u2060\ufeff]/;

/** Trims whitespace and zero-width characters; a loop, because /[…]+$/ backtracks quadratically. */
function trimInvisible(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && INVISIBLE.test(text[start] ?? '')) start++;
  while (end > start && INVISIBLE.test(text[end - 1] ?? '')) end--;
  return text.slice(start, end);
}
