import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeBlock, escapeMarkdown, inlineCode, quoteBlock } from '../../src/templates/markdown.ts';

const ZWJ = '\u200D';
const ZWSP = '\u200B';
const NBSP = '\u00A0';

/** The escaped text with its invisible characters removed and escapes undone: what a reader sees. */
function readable(escaped: string): string {
  return escaped
    .replace(/[\u200B\u200D]/g, '')
    .replace(/\u00A0/g, ' ')
    .replace(/\\(.)/g, '$1')
    .replace(/&#91;/g, '[')
    .replace(/&#93;/g, ']')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** What must never be in escaped text; each entry is one way of reaching someone or something. */
function dangers(out: string): string[] {
  const found: string[] = [];
  if (/@[A-Za-z0-9]/.test(out)) found.push('mention');
  // `&#91;` and `&#93;` are how brackets are written; GitHub reads them as brackets, not as `#91`.
  if (/#\d/.test(out.replace(/&#9[13];/g, ''))) found.push('issue reference');
  if (/GH-\d/i.test(out)) found.push('GH- reference');
  if (out.includes('](')) found.push('link');
  if (out.includes('<')) found.push('HTML or autolink');
  if (out.includes('://') || /www\./i.test(out)) found.push('bare URL');
  // Every backtick, star, underscore, tilde, pipe and dollar is escaped by an odd number of backslashes.
  if (/(^|[^\\])(\\\\)*[`*_~|$]/.test(out)) found.push('unescaped markup');
  if (out.split('\n').some((line) => /^\s*\//.test(line))) found.push('command line');
  if (out.split('\n').some((line) => /^ {4}|^\t/.test(line))) found.push('indented code');
  return found;
}

describe('escapeMarkdown', () => {
  it('is needed: unescaped, the hostile inputs show every danger the checks look for', () => {
    const raw = '@a #1 GH-2 [x](y) <b> https://c www.d `e` /f\n/g\n    h';
    const all = ['mention', 'issue reference', 'GH- reference', 'link', 'HTML or autolink', 'bare URL'];
    expect(dangers(raw)).toEqual([...all, 'unescaped markup', 'command line', 'indented code']);
    expect(dangers(escapeMarkdown(raw))).toEqual([]);
  });

  it.each<[string, string, string[]]>([
    ['@nedap/security please', `@${ZWJ}nedap/security please`, ['nedap/security', 'please']],
    ['@everyone', `@${ZWJ}everyone`, ['everyone']],
    ['[click](https://evil)', `&#91;click&#93;(https:${ZWSP}//evil)`, ['click', 'evil']],
    ['![x](https://evil/x.png)', `!&#91;x&#93;(https:${ZWSP}//evil/x.png)`, ['evil/x.png']],
    ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;', ['img src=x onerror=alert(1)']],
    ['<https://evil>', `&lt;https:${ZWSP}//evil&gt;`, ['https:', '//evil']],
    ['https://evil.example/path', `https:${ZWSP}//evil.example/path`, ['evil.example/path']],
    ['see www.evil.example', `see www${ZWSP}.evil.example`, ['evil.example']],
    ['mail bob@evil.example', `mail bob@${ZWJ}evil.example`, ['bob', 'evil.example']],
    ['#1', `#${ZWJ}1`, ['1']],
    ['see GH-123 and nedap/ons#4', `see GH-${ZWJ}123 and nedap/ons#${ZWJ}4`, ['GH-', '123', 'nedap/ons']],
    ['`code`', '\\`code\\`', ['code']],
    ['**bold** _it_ ~~gone~~', '\\*\\*bold\\*\\* \\_it\\_ \\~\\~gone\\~\\~', ['bold', 'it', 'gone']],
    ['| a | b |', '\\| a \\| b \\|', ['a', 'b']],
    ['costs $5 or $x^2$', 'costs \\$5 or \\$x^2\\$', ['costs', '5']],
    ['/approve', '\\/approve', ['/approve']],
    [' /approve', `${NBSP}\\/approve`, ['/approve']],
    ['thanks\n/reject no', 'thanks\n\\/reject no', ['thanks', '/reject no']],
    ['# Approved', `#${ZWJ} Approved`, ['Approved']],
    ['> quoted', '&gt; quoted', ['quoted']],
    ['title\n---', 'title\n\\---', ['title']],
    ['title\n===', 'title\n\\===', ['title']],
    ['- item\n+ item\n1. item\n2) item', '\\- item\n\\+ item\n1\\. item\n2\\) item', ['item']],
    ['text\n\n    indented', `text\n\n${NBSP.repeat(4)}indented`, ['indented']],
    ['a \\*b\\* &amp; c', 'a \\\\\\*b\\\\\\* &amp;amp; c', ['a', 'b', 'c', '&amp;']],
    ['one\r\ntwo\rthree\u2028four', 'one\ntwo\nthree\nfour', ['one', 'two', 'three', 'four']],
    ['bidi \u202Eevil\u202C ok\u0000', 'bidi evil ok', ['bidi', 'evil', 'ok']],
    ['line\n   \nafter', 'line\n\nafter', ['line', 'after']],
  ])('%j becomes %j', (input, expected, words) => {
    const out = escapeMarkdown(input);
    expect(out).toBe(expected);
    expect(dangers(out)).toEqual([]);
    for (const word of words) expect(readable(out)).toContain(word);
  });

  it('keeps plain text as it is', () => {
    expect(escapeMarkdown('Koppeling voor Zorggroep Oost (productie), versie 1.2.3.')).toBe(
      'Koppeling voor Zorggroep Oost (productie), versie 1.2.3.',
    );
  });

  it('keeps the number of lines', () => {
    expect(escapeMarkdown('a\n\n\nb\n').split('\n')).toHaveLength(5);
  });
});

/** Strings rich in what attackers write, mixed with any string at all. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc
    .array(
      fc.constantFrom(
        ...'@#1aZ[]()!<>&/\\`*_~|$:-=+. \t\n\r'.split(''),
        ...['//', '://', 'https', 'www.', 'GH-', '    ', '&#64;', '&lt;', '/approve'],
        ...[NBSP, ZWJ, ZWSP, '\u2028', '\u202E'],
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join('')),
);

describe('escapeMarkdown, for any input', () => {
  it('leaves no mention, link, HTML, markup or command', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        expect(dangers(escapeMarkdown(text))).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the letters and digits in their order', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const letters = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');
        expect(letters(readable(escapeMarkdown(text)))).toBe(letters(text));
      }),
    );
  });
});

describe('quoteBlock', () => {
  it('escapes and quotes every line; an empty line is a bare >', () => {
    expect(quoteBlock('Hi @alice,\n\n/approve please\n')).toBe(
      `> Hi @${ZWJ}alice,\n>\n> \\/approve please\n>`,
    );
  });

  it('starts every line with > for any input', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const out = quoteBlock(text);
        for (const line of out.split('\n')) expect(line === '>' || line.startsWith('> ')).toBe(true);
        expect(out.split('\n')).toHaveLength(escapeMarkdown(text).split('\n').length);
      }),
    );
  });
});

describe('codeBlock', () => {
  it('fences a PEM with three backticks and drops its trailing newline', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(codeBlock(pem)).toBe('```\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n```');
  });

  it('chooses a fence longer than any backtick run inside', () => {
    expect(codeBlock('before\n```\n@everyone\n````\nafter')).toBe(
      '`````\nbefore\n```\n@everyone\n````\nafter\n`````',
    );
  });

  it('normalises line endings and removes bidi controls', () => {
    expect(codeBlock('a\r\nb\u202Ec')).toBe('```\na\nbc\n```');
  });

  it('starts and ends with the same fence, which never occurs inside, for any input', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const out = codeBlock(text);
        const fence = /^`{3,}/.exec(out)?.[0] ?? '';
        expect(fence.length).toBeGreaterThanOrEqual(3);
        expect(out.startsWith(`${fence}\n`)).toBe(true);
        expect(out.endsWith(`\n${fence}`)).toBe(true);
        const inside = out.slice(fence.length + 1, out.length - fence.length - 1);
        expect(inside).not.toContain(fence);
        expect(out.charAt(fence.length)).toBe('\n'); // no longer run of backticks opened it
      }),
    );
  });
});

describe('inlineCode', () => {
  it.each([
    ['hr_integration-TE1234-production', '`hr_integration-TE1234-production`'],
    ['AB:CD:EF', '`AB:CD:EF`'],
    ['a`b', '``a`b``'],
    ['`starts', '`` `starts ``'],
    [' both ', '`  both  `'],
    ['two\nlines', '`two lines`'],
    ['', '` `'],
  ])('%j is %j', (input, expected) => {
    expect(inlineCode(input)).toBe(expected);
  });

  it('is one line whose delimiters are longer than any backtick run inside, for any input', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const out = inlineCode(text);
        expect(out).not.toMatch(/[\n\r]/);
        const ticks = /^`+/.exec(out)?.[0] ?? '';
        expect(out.endsWith(ticks)).toBe(true);
        const inside = out.slice(ticks.length, out.length - ticks.length);
        expect(inside).not.toContain(ticks);
        expect(inside.startsWith('`') || inside.endsWith('`')).toBe(false);
      }),
    );
  });
});

describe('escaped supplier text is never a command', () => {
  it('even as the first line of a comment', async () => {
    const { parseCommand } = await import('../../src/core/command.ts');
    for (const line of ['/approve', ' /approve', '\u00a0/approve', '/reject no']) {
      expect(parseCommand(escapeMarkdown(line))).toEqual({ kind: 'none' });
    }
  });
});
