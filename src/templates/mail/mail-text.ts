import { shorten } from '../text.ts';

/**
 * What someone else wrote (a supplier's name, a connector, a reason) is never markup: in the HTML
 * every character of text, ours included, is escaped, so the only tags are the renderer's own; in
 * the subject, line breaks and control characters become spaces, so a value cannot add a header.
 * A link is only a link when its URL is http(s); otherwise its words are shown without one.
 */

/** How long one inline value from someone else may be. */
export const VALUE_MAX = 200;

const LINE_BREAKS = /\r\n|[\r\n\u0085\u2028\u2029]/g;
// Control characters (C0 but tab and newline, DEL, C1) and the bidirectional overrides and
// isolates that can make text display in another order than it reads.
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Line breaks as `\n`, invisible controls removed, broken surrogates replaced: text a mail can carry. */
export function cleanText(text: string): string {
  return text.replace(LINE_BREAKS, '\n').replace(INVISIBLE, '').replace(LONE_SURROGATE, '\uFFFD');
}

/** A value for the middle of a sentence: cleaned, on one line, shortened. */
export function oneLine(value: string, max = VALUE_MAX): string {
  return cleanText(shorten(value, max)).replace(/[\n\t]+/g, ' ');
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and for a double- or single-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** The URL as an href if it is an absolute http(s) URL, normalised; undefined for anything else. */
export function safeHref(url: string): string | undefined {
  try {
    const parsed = new URL(url.trim());
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}
