import { escapeMarkdown, inlineCode, quoteBlock } from './markdown.ts';
import { shorten } from './text.ts';

/**
 * How the bot's comments on a certificate approval ticket (product.md, "The ticket") show other
 * people's text, as GitHub-flavoured Markdown. Every value from a supplier, a ticket or GitHub
 * goes through markdown.ts: inline values flattened to one line and escaped (or as inline code),
 * free text quoted. The only real mentions are the approvers, from the validated approvers file
 * (approval-comments.ts). Values are shortened so that a comment stays well inside GitHub's
 * limit of 65,536 characters.
 *
 * The comments themselves: approval-comments.ts (asking the approvers), intake-comments.ts
 * (what keeps a ticket from being asked), decision-comments.ts (a decision and the replies to
 * commands), expiry-comment.ts; each ends with its marker (comment-marker.ts).
 */

/** Upper bound on one inline value from someone else. */
const SHORT = 200;

/** A value from someone else as escaped text on one line, for the middle of a sentence. */
export function plain(value: string, max = SHORT): string {
  return escapeMarkdown(shorten(value, max).replace(/[\r\n\u0085\u2028\u2029]+/g, ' '));
}

/** A value from someone else as inline code (a name, code, fingerprint or serial). */
export function code(value: string, max = SHORT): string {
  return inlineCode(shorten(value, max));
}

/** Free text quoted as a block, with a note when it had to be shortened. */
export function quoted(value: string, max: number): string {
  if (value.length <= max) return quoteBlock(value);
  return `${quoteBlock(shorten(value, max))}\n\n(Shortened here; the full text is in the ticket.)`;
}

/**
 * A link to the dashboard. The URL is our own configuration; one that is not http(s) is shown
 * as plain words instead of failing the comment.
 */
export function dashboardLink(url: string, words = 'the certificates dashboard'): string {
  let href: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return words;
    href = parsed.href.replace(/\(/g, '%28').replace(/\)/g, '%29');
  } catch {
    return words;
  }
  return `[${words}](${href})`;
}
