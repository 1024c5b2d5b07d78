import { shorten } from '../text.ts';

/**
 * The building blocks of the e-mails to suppliers (product.md, flows 4 and 5; the mails per kind
 * are in the other files of this folder). A mail is written once, as blocks of our own words and
 * other people's values, and rendered twice (render-mail.ts): as plain text and as a small HTML
 * document.
 */

/** One e-mail, ready for a mailer: subject on one line, plain text, and an HTML alternative. */
export interface Mail {
  subject: string;
  text: string;
  html: string;
}

/** A piece of a sentence: our words, someone else's value, a value as code, or a link. */
export type Inline =
  { ours: string } | { value: string } | { code: string } | { link: string; words: string };

/** A block of a mail. */
export type Block =
  | { kind: 'paragraph'; parts: Inline[] }
  | { kind: 'facts'; rows: [label: string, value: Inline[]][] }
  | { kind: 'quote'; text: string }
  | { kind: 'code'; text: string };

/** How long quoted free text from someone else may be. */
const QUOTE_MAX = 4_000;

/** What a sentence written with `words` may interpolate. */
export type Piece = string | Inline | Inline[];

/**
 * A sentence's parts: the literal text is ours, each interpolated string is a value from someone
 * else (shown as text, escaped in HTML), and interpolated parts are used as they are.
 */
export function words(strings: TemplateStringsArray, ...values: Piece[]): Inline[] {
  const parts: Inline[] = [];
  strings.forEach((literal, i) => {
    if (literal !== '') parts.push({ ours: literal });
    if (i < values.length) {
      const value = values[i] ?? '';
      if (typeof value === 'string') parts.push({ value });
      else if (Array.isArray(value)) parts.push(...value);
      else parts.push(value);
    }
  });
  return parts;
}

/** A paragraph of the parts written with `words`. */
export function paragraph(strings: TemplateStringsArray, ...values: Piece[]): Block {
  return { kind: 'paragraph', parts: words(strings, ...values) };
}

/** Our own words, for a sentence written with `words` or `paragraph`. */
export function ours(text: string): Inline {
  return { ours: text };
}

/** Someone else's value shown as code (a name, serial or fingerprint). */
export function code(value: string): Inline {
  return { code: value };
}

/** A link to the dashboard; shown as its words only when the URL is not http(s). */
export function dashboard(url: string, linkWords = 'the certificates dashboard'): Inline {
  return { link: url, words: linkWords };
}

/** Free text quoted, or a note that there was none. */
export function quoteOf(text: string): Block {
  const trimmed = text.trim();
  return trimmed === ''
    ? { kind: 'paragraph', parts: [{ ours: '(No reason was given.)' }] }
    : { kind: 'quote', text: shorten(trimmed, QUOTE_MAX) };
}
