import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapeValue,
  formatSubject,
  unsafeCharacters,
  visible,
  type SubjectAttribute,
} from '../../src/core/distinguished-name.ts';

/**
 * An independent reading of RFC 4514 text (a `type=value` list joined by `,`), to check that
 * what formatSubject writes reads back as exactly the attributes it was given.
 */
function readRfc4514(text: string): SubjectAttribute[] {
  const attributes: SubjectAttribute[] = [];
  let i = 0;
  while (i < text.length) {
    const equals = text.indexOf('=', i);
    const type = text.slice(i, equals);
    const bytes: number[] = [];
    i = equals + 1;
    for (; i < text.length && text[i] !== ','; i++) {
      if (text[i] === '\\') {
        const hex = text.slice(i + 1, i + 3);
        if (/^[0-9A-F]{2}$/.test(hex)) {
          bytes.push(parseInt(hex, 16));
          i += 2;
        } else {
          bytes.push(...Buffer.from(text[++i]!, 'utf8'));
        }
      } else {
        if ('+"<>;'.includes(text[i]!)) throw new Error(`unescaped ${text[i]} in ${text}`);
        const char = String.fromCodePoint(text.codePointAt(i)!);
        bytes.push(...Buffer.from(char, 'utf8'));
        i += char.length - 1;
      }
    }
    attributes.push({ type, value: Buffer.from(bytes).toString('utf8') });
    if (text.startsWith(', ', i)) i += 2;
  }
  return attributes;
}

describe('subjects as RFC 4514 text', () => {
  it('keeps the CSR order, CN first, and escapes what RFC 4514 §2.4 says', () => {
    const subject = [
      { type: 'CN', value: 'hr_integration-TE1002-x' },
      { type: 'O', value: 'Zorg B.V., CN=other_conn-CF1234-prod' },
      { type: 'OU', value: '#1 "team" <a>; b+c\\d ' },
      { type: 'L', value: ' Zwolle' },
      { type: 'ST', value: 'Fryslân' },
    ];
    expect(formatSubject(subject)).toBe(
      'CN=hr_integration-TE1002-x, O=Zorg B.V.\\, CN=other_conn-CF1234-prod, ' +
        'OU=\\#1 \\"team\\" \\<a\\>\\; b\\+c\\\\d\\ , L=\\ Zwolle, ST=Fryslân',
    );
  });

  it('writes NUL, CR, LF, C1 controls and bidi overrides as \\XX octets: one line, left to right', () => {
    expect(escapeValue('a\0b\r\nc\u0085d\u202ee')).toBe('a\\00b\\0D\\0Ac\\C2\\85d\\E2\\80\\AEe');
    expect(escapeValue('#')).toBe('\\#');
    expect(escapeValue('a#')).toBe('a#');
    expect(escapeValue('a = b')).toBe('a = b');
  });

  it('shows unsafe characters in messages as <U+XXXX>, and names each once', () => {
    expect(visible('Zorg\0B.V.\u202e')).toBe('Zorg<U+0000>B.V.<U+202E>');
    expect(unsafeCharacters('a\r\n\r\n\u2066')).toEqual(['U+000D', 'U+000A', 'U+2066']);
    expect(unsafeCharacters('Fryslân ë 😀')).toEqual([]);
  });

  it('reads back as the same attributes, never more of them, and never with an unsafe character', () => {
    const value = fc.string({
      unit: fc.oneof(
        fc.constantFrom(...',+"\\<>;# =\0\r\n\u202e'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      ),
      maxLength: 30,
    });
    const types = fc.constantFrom('CN', 'OU', 'O', 'L', 'ST', 'C', 'emailAddress');
    fc.assert(
      fc.property(fc.array(fc.record({ type: types, value }), { maxLength: 7 }), (subject) => {
        const text = formatSubject(subject);
        expect(unsafeCharacters(text)).toEqual([]);
        expect(readRfc4514(text)).toEqual(subject);
      }),
      { numRuns: 2000 },
    );
  });
});
