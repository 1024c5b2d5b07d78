import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommand, type Command } from '../../src/core/command.ts';

const APPROVE: Command = { kind: 'approve' };
const NONE: Command = { kind: 'none' };
const reject = (reason: string): Command => ({ kind: 'reject', reason });
const unknown = (word: string): Command => ({ kind: 'unknown', word });

describe('parseCommand', () => {
  it.each<[string, string | null | undefined, Command]>([
    ['approve', '/approve', APPROVE],
    ['approve with spaces around', '  /approve  ', APPROVE],
    ['approve in capitals', '/APPROVE', APPROVE],
    ['approve with a tab after', '/Approve\t', APPROVE],
    ['approve then a thank-you', '/approve\n\nThanks, go ahead.', APPROVE],
    ['approve after blank lines', '\n\n   \n/approve', APPROVE],
    ['approve after a line of zero-width spaces', '\u200b\u200b \u2060\n/approve', APPROVE],
    ['approve after a byte order mark', '\ufeff/approve', APPROVE],
    ['approve with CRLF', '\r\n/approve\r\nthanks\r\n', APPROVE],
    ['approve with lone CR', '\r/approve\r', APPROVE],
    ['a quoted approve', '> /approve', NONE],
    ['a quoted approve, indented', '   > /approve', NONE],
    ['a quote, a blank line, then approve', '> Can you approve this?\n\n/approve', APPROVE],
    ['a quote reply then approve', '> @alice please comment `/approve`\n> thanks\n\n/APPROVE\n', APPROVE],
    ['a fenced approve', '```\n/approve\n```', NONE],
    ['a fenced approve, then text', '```\n/approve\n```\nlooks fine', NONE],
    ['a fenced block, then approve', '```sh\n/reject x\n```\n/approve', APPROVE],
    ['a ~~~ fenced approve', '~~~\n/approve\n~~~', NONE],
    ['a fence indented by 3 spaces', '   ```\n/approve\n   ```', NONE],
    ['a longer fence is not closed by a shorter one', '````\n```\n/approve\n````', NONE],
    ['an unclosed fence hides the rest', '```\n\n/approve', NONE],
    ['an HTML comment, then text', '<!-- /approve -->\nWe will discuss this internally.', NONE],
    ['an HTML comment, then approve', '<!-- template: reply with /approve or /reject -->\n/approve', APPROVE],
    ['a multi-line HTML comment', '<!--\n/approve\n-->\n/reject not now', reject('not now')],
    ['an unclosed HTML comment', '<!--\n/approve', NONE],
    ['approve behind an inline comment', '<!-- ok --> /approve', APPROVE],
    ['4-space indented code', '    /approve', NONE],
    ['tab-indented code', '\t/approve', NONE],
    ['indented code, blank, then approve', '    code\n\n/approve', APPROVE],
    ['a near miss', '/approved', unknown('/approved')],
    ['approve with more text', '/approve please', unknown('/approve')],
    ['approve now, as typed', '/Approve now', unknown('/Approve')],
    ['lgtm', '/lgtm', unknown('/lgtm')],
    ['a lone slash', '/', unknown('/')],
    ['reject with a reason', '/reject too broad', reject('too broad')],
    ['reject in mixed case', '/Reject Too Broad', reject('Too Broad')],
    ['reject without a reason', '/reject', reject('')],
    ['reject with only spaces', '/reject    \n  \n', reject('')],
    [
      'a multi-line reject reason',
      '/reject The CSR asks for\nmore than we agreed.\n\n> quoted\n```\ncode\n```\n',
      reject('The CSR asks for\nmore than we agreed.\n\n> quoted\n```\ncode\n```'),
    ],
    ['a reason on the next lines', '/reject\r\n\r\nNot our supplier.\r\n', reject('Not our supplier.')],
    ['text first, approve later', 'Looks good to me.\n\n/approve', NONE],
    ['approve mid-line', 'I /approve', NONE],
    ['a zero-width space before the quote marker', '\u200b> /approve', NONE],
    ['empty', '', NONE],
    ['blank', ' \n\t\n', NONE],
    ['null', null, NONE],
    ['undefined', undefined, NONE],
  ])('%s', (_name, body, command) => {
    expect(parseCommand(body)).toEqual(command);
  });
});

const ALPHABET = ['#', '/', '>', '`', '```', '~', '~~~', '\n', '\r\n', ' ', '    ', '\t', '\u200b', 'a', 'p'];
const WORDS = ['/approve', '/APPROVE', '/reject', '<!--', '-->', 'r', 'o', 've'];
const markdownish = fc
  .array(fc.constantFrom(...ALPHABET, ...WORDS), { maxLength: 60 })
  .map((p) => p.join(''));
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 500 }), markdownish);

/** Lines that may precede the command line: blank, quoted, fenced, commented out, indented code. */
const hiddenBlock = fc.oneof(
  fc.constantFrom('', '   ', '\u200b', '\t'),
  fc.stringMatching(/^[a-z/ ]{0,20}$/).map((t) => `> ${t}`),
  fc.stringMatching(/^[a-z/ \n]{0,30}$/).map((t) => `\`\`\`\n${t}\n\`\`\``),
  fc.stringMatching(/^[a-z/ \n]{0,30}$/).map((t) => `~~~~\n${t}\n~~~~`),
  fc.stringMatching(/^[a-z/ \n]{0,30}$/).map((t) => `<!--${t}-->`),
  fc.stringMatching(/^[a-z/]{1,20}$/).map((t) => `\n    ${t}\n`),
);
/** A first visible line: no markdown construct that would hide it. */
const visibleLine = fc
  .oneof(
    fc.stringMatching(/^ {0,3}[a-zA-Z/][a-zA-Z/ ]{0,15}$/),
    fc.constantFrom(
      '/approve',
      ' /approve',
      '/approve now',
      '/approved',
      '/ approve',
      '/reject',
      '/reject x',
    ),
  )
  .chain((line) => fc.constantFrom(line, `${line}  `, `${line}\u200b`, line.toUpperCase()));

describe('parseCommand: properties', () => {
  it('never throws, and returns one of the four kinds', () => {
    fc.assert(
      fc.property(anyText, (body) => {
        const command = parseCommand(body);
        expect(['none', 'approve', 'reject', 'unknown']).toContain(command.kind);
        if (command.kind === 'reject') expect(command.reason).toBe(command.reason.trim());
        if (command.kind === 'unknown') expect(command.word.startsWith('/')).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('approves only when the first visible line is exactly /approve', () => {
    fc.assert(
      fc.property(fc.array(hiddenBlock, { maxLength: 4 }), visibleLine, anyText, (hidden, line, tail) => {
        const body = [...hidden, line, tail].join('\n');
        // Zero-width spaces are invisible, so they trim like whitespace.
        const first = line.replace(/^[\s\u200b]+|[\s\u200b]+$/g, '').toLowerCase();
        const command = parseCommand(body);
        expect(command.kind === 'approve').toBe(first === '/approve');
        if (!first.startsWith('/')) expect(command).toEqual(NONE);
        if (first.startsWith('/reject ') || first === '/reject') expect(command.kind).toBe('reject');
      }),
      { numRuns: 3000 },
    );
  });

  it('an approve exists as a line of its own whenever one is found', () => {
    fc.assert(
      fc.property(anyText, (body) => {
        fc.pre(parseCommand(body).kind === 'approve');
        const lines = body.split(/\r\n|\r|\n/).map((l) => l.trim().toLowerCase());
        expect(lines.some((l) => l.includes('/approve'))).toBe(true);
      }),
    );
  });

  it('quoting or fencing a whole comment leaves no command', () => {
    fc.assert(
      fc.property(anyText, (body) => {
        const lines = body.replace(/^\ufeff/, '').split(/\r\n|\r|\n/);
        expect(parseCommand(lines.map((l) => `> ${l}`).join('\n'))).toEqual(NONE);
        const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
        const fence = '`'.repeat(Math.max(3, longest + 1));
        expect(parseCommand(`${fence}\n${body}\n${fence}`)).toEqual(NONE);
      }),
      { numRuns: 2000 },
    );
  });

  it('a line of text before a command leaves no command', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z][a-zA-Z ]{0,20}$/), anyText, (text, rest) => {
        expect(parseCommand(`${text}\n${rest}`)).toEqual(NONE);
      }),
    );
  });
});
