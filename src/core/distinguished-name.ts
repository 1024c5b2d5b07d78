/**
 * Subjects as text. A subject's values come from the supplier's CSR, so a value must never be
 * able to look like more of the subject (`O=Zorg B.V., CN=other` as one O), like more lines, or
 * reorder what is shown around it. One function turns a subject into text, everywhere.
 */

/** One attribute of a subject: a short name (CN, OU, ...) or a dotted OID, and its value. */
export interface SubjectAttribute {
  type: string;
  value: string;
}

/**
 * Characters a subject value must not hold (the CSR policy refuses them, `subject_invalid_field`):
 * C0 controls (NUL, CR, LF, ...), DEL, C1 controls, the line and paragraph separators, the byte
 * order mark, lone surrogates (no character at all), and the bidirectional marks, embeddings,
 * overrides and isolates (U+202E shows the rest of a line reversed, so `evil` can read as
 * `live`).
 */
export const UNSAFE_CHARACTERS =
  // Control characters are exactly what this pattern is about.
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]/gu;

/** The characters of `value` that `UNSAFE_CHARACTERS` names, each once, as U+XXXX. */
export function unsafeCharacters(value: string): string[] {
  const found = new Set<string>();
  for (const match of value.matchAll(UNSAFE_CHARACTERS)) found.add(codePoint(match[0]));
  return [...found];
}

/** `value` with every unsafe character shown as `<U+XXXX>`, at most `max` characters of it. */
export function visible(value: string, max = 80): string {
  const cut = [...value].length > max ? `${[...value].slice(0, max).join('')}…` : value;
  return cut.replace(UNSAFE_CHARACTERS, (c) => `<${codePoint(c)}>`);
}

function codePoint(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

const UNSAFE = new RegExp(UNSAFE_CHARACTERS.source, 'u');
const UTF8 = new TextEncoder();
const SPECIAL = new Set([',', '+', '"', '\\', '<', '>', ';']);

/**
 * One attribute value escaped as RFC 4514 §2.4 says: `,` `+` `"` `\` `<` `>` `;` anywhere, `#`
 * or a space at the start and a space at the end get a backslash; NUL and every other unsafe
 * character (`UNSAFE_CHARACTERS`) becomes `\XX` per UTF-8 octet (§2.4 allows escaping any
 * character so), which keeps the text on one line, readable left to right, and storable as
 * PostgreSQL text. Everything else, non-ASCII letters included, stays as it is.
 */
export function escapeValue(value: string): string {
  const chars = [...value];
  return chars
    .map((c, i) => {
      if (SPECIAL.has(c)) return `\\${c}`;
      if ((c === '#' || c === ' ') && i === 0) return `\\${c}`;
      if (c === ' ' && i === chars.length - 1) return '\\ ';
      if (UNSAFE.test(c)) {
        return [...UTF8.encode(c)].map((b) => `\\${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
      }
      return c;
    })
    .join('');
}

/**
 * A subject as one line of RFC 4514 text: `type=value` pairs joined by `, `, each value escaped
 * by `escapeValue`, so a comma or `CN=` inside a value can never read as another attribute.
 * Unlike RFC 4514's string form (which lists the RDNs last first), the pairs keep the CSR's
 * order, CN first as OpenSSL writes them, because that is how suppliers and approvers read a
 * subject. This is the only way a subject becomes text (API JSON, stored `subject` columns,
 * ticket comments, mails, pages, `ons-certs csr check`); HTML and Markdown contexts still
 * escape the result for themselves.
 */
export function formatSubject(attributes: readonly SubjectAttribute[]): string {
  return attributes.map((a) => `${a.type}=${escapeValue(a.value)}`).join(', ');
}
