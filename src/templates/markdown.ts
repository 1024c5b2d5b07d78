/**
 * Putting text that someone else wrote (a supplier's ticket, a CSR's subject) into a bot
 * comment on GitHub. Whatever the text holds, it must read as that text: it may not mention or
 * notify anyone, link anywhere, render HTML, look like a heading or table, or show a line that
 * reads as a `/approve` command when someone copies or quotes it.
 *
 * Two techniques, each where it works:
 * - Markdown syntax is disarmed with backslash escapes (CommonMark guarantees an escaped ASCII
 *   punctuation character is literal) or, for `<`, `>`, `&`, `[` and `]`, with character
 *   references, so that the source never holds a raw `<` or `](`.
 * - GitHub's own linking (mentions `@user` and `@org/team`, `#123`, `GH-123`, bare URLs,
 *   `www.`, e-mail addresses) runs on the rendered text, after escapes are gone, so there an
 *   invisible character is put in the way: a zero-width joiner after `@`, `#` and `GH-` (it
 *   does not allow a line break there) and a zero-width space in `://` and `www.`.
 *   The words stay readable and searchable; only their automatic meaning is lost.
 */

const ZWJ = '\u200D';
const ZWSP = '\u200B';
const NBSP = '\u00A0';

// Everything that ends a line somewhere becomes one `\n`, so that the line-start rules below
// see the same lines as any reader of the comment.
const LINE_BREAKS = /\r\n|[\r\u0085\u2028\u2029]/g;
// Control characters, and the bidirectional overrides and isolates that can make text display
// in another order than it reads (the "Trojan Source" trick); none belongs in a ticket.
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g;

const REPLACEMENTS: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '[': '&#91;',
  ']': '&#93;',
  '@': `@${ZWJ}`,
  '#': `#${ZWJ}`,
};
// Emphasis, strike-through, code, tables and GitHub's `$…$` maths; `\` itself so that a
// supplier's backslash cannot undo one of ours.
const SPECIAL = /[&<>[\]@#\\`*_~|$]/g;

/** Newlines normalised, invisible controls removed: the common first step of every function. */
function clean(text: string): string {
  return text.replace(LINE_BREAKS, '\n').replace(INVISIBLE, '');
}

/**
 * Escapes supplier-provided text for a bot comment (see the top of this file). Newlines stay
 * newlines; a line of blanks becomes empty; leading blanks become no-break spaces, so that
 * indentation shows but cannot start a code block.
 */
export function escapeMarkdown(text: string): string {
  const escaped = clean(text)
    .replace(SPECIAL, (c) => REPLACEMENTS[c] ?? `\\${c}`)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/www\./gi, (www) => `${www.slice(0, 3)}${ZWSP}.`)
    .replace(/GH-(?=\d)/gi, (gh) => `${gh}${ZWJ}`);
  return escaped.split('\n').map(guardLineStart).join('\n');
}

/**
 * What only means something at the start of a line: list markers, setext underlines (`---`,
 * `===`) and, for the bot, a command. `\s` includes the no-break space, as `String.trim()` does,
 * so a command parser that trims cannot find a `/` we missed.
 */
function guardLineStart(line: string): string {
  const [, indent = '', rest = ''] = /^(\s*)(.*)$/s.exec(line) ?? [];
  if (rest === '') return '';
  let guarded = rest;
  if (/^[-+=]/.test(rest)) guarded = `\\${rest}`;
  else if (/^\d{1,9}[.)]/.test(rest)) guarded = rest.replace(/^(\d+)([.)])/, '$1\\$2');
  // A backslash, not an invisible character: parseCommand strips those before it looks for `/`.
  else if (rest.startsWith('/')) guarded = `\\${rest}`;
  return indent.replace(/\t/g, NBSP.repeat(4)).replace(/\s/g, NBSP) + guarded;
}

/**
 * Escapes the text and quotes it: every line starts with `> `, an empty line is `>`. The
 * quote also keeps the text apart from the bot's own words, and quoted lines are never
 * commands (product.md).
 */
export function quoteBlock(text: string): string {
  return escapeMarkdown(text)
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');
}

/**
 * Fences arbitrary text (a PEM, a supplier's CSR) as a code block, shown exactly as given: no
 * escaping is needed inside, as GitHub neither formats nor links there. The fence is a run of
 * backticks longer than any inside the text, so no line of the text can close it. Meant for
 * the top level of a comment, not inside a list or quote. One trailing newline is dropped.
 */
export function codeBlock(text: string): string {
  const body = clean(text).replace(/\n$/, '');
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(body) + 1));
  return `${fence}\n${body}\n${fence}`;
}

/**
 * A short value (a CN, a fingerprint) as inline code, on one line: newlines become spaces and
 * the delimiter is longer than any backtick run inside. Not for table cells, where a `|`
 * would still split the cell.
 */
export function inlineCode(text: string): string {
  const flat = clean(text).replace(/\n/g, ' ');
  if (flat === '') return '` `';
  const ticks = '`'.repeat(longestBacktickRun(flat) + 1);
  // CommonMark drops one space on each side when both are there, and a backtick at an edge
  // would merge with the delimiter: pad then, and the padding is what gets dropped.
  const edgeTick = flat.startsWith('`') || flat.endsWith('`');
  const edgeSpaces = flat.startsWith(' ') && flat.endsWith(' ') && /[^ ]/.test(flat);
  const pad = edgeTick || edgeSpaces ? ' ' : '';
  return `${ticks}${pad}${flat}${pad}${ticks}`;
}

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return longest;
}
