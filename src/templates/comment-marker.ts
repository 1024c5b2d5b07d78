/**
 * The hidden marker line each bot comment ends with, `<!-- ons-certs:<kind>:<key> -->`, by
 * which the bot finds its own comment again (to edit it, or to not post it twice).
 */

/** The kinds of comment, as written in the marker. */
export const COMMENT_KINDS = [
  'approval-request',
  'reminder',
  'needs-info',
  'development-code',
  'needs-config',
  'broken-config',
  'author-not-registered',
  'approved',
  'renewed',
  'rejected',
  'expired',
  'csr-changed',
  'refusal',
  'unknown-command',
  'expiry-reminder',
] as const;

export type CommentKind = (typeof COMMENT_KINDS)[number];

/** What a marker holds; `key` is the request id, the issue number or the answered comment's id. */
export interface StatusMarker {
  kind: CommentKind;
  key: string;
}

const KINDS: ReadonlySet<string> = new Set(COMMENT_KINDS);
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const MARKER = /^<!-- ons-certs:([a-z-]{1,40}):([A-Za-z0-9._-]{1,100}) -->$/;

/**
 * The marker line for a comment. Keys are ours (a request's UUID, an issue or comment number),
 * so a key the marker cannot carry is a bug and throws a TypeError.
 */
export function statusMarker(kind: CommentKind, key: string | number): string {
  const text = String(key);
  const validKey = typeof key === 'number' ? Number.isSafeInteger(key) && key >= 0 : KEY.test(text);
  if (!KINDS.has(kind) || !validKey) throw new TypeError(`cannot mark a comment with ${kind}:${text}`);
  return `<!-- ons-certs:${kind}:${text} -->`;
}

/**
 * The marker of a comment body, read from its last non-blank line only (so that a marker inside
 * quoted or code text earlier in a comment is never taken for it). Undefined for anything else;
 * never throws.
 */
export function findMarker(body: unknown): StatusMarker | undefined {
  if (typeof body !== 'string') return undefined;
  const trimmed = body.trimEnd();
  const lastLine = trimmed.slice(Math.max(trimmed.lastIndexOf('\n'), trimmed.lastIndexOf('\r')) + 1).trim();
  if (lastLine.length > 200) return undefined;
  const match = MARKER.exec(lastLine);
  const kind = match?.[1];
  const key = match?.[2];
  if (kind === undefined || key === undefined || !KINDS.has(kind) || !KEY.test(key)) return undefined;
  return { kind: kind as CommentKind, key };
}

/** The comment's text and its marker, apart by a blank line so the marker is its own HTML block. */
export function withMarker(kind: CommentKind, key: string | number, paragraphs: string[]): string {
  return `${paragraphs.join('\n\n')}\n\n${statusMarker(kind, key)}`;
}
