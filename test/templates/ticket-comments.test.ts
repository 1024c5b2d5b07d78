import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toPem } from '../../src/ca/pem.ts';
import { closesFence, openFence, type Fence } from '../../src/core/code-fence.ts';
import { mayDecide, type RefusalReason } from '../../src/core/may-approve.ts';
import {
  approvedComment,
  csrChangedComment,
  expiredComment,
  refusalReply,
  rejectedComment,
  renewedComment,
  unknownCommandReply,
} from '../../src/templates/decision-comments.ts';
import {
  approvalRequestComment,
  approverMentions,
  reminderComment,
  type ApprovalRequestInput,
} from '../../src/templates/approval-comments.ts';
import {
  COMMENT_KINDS,
  findMarker,
  statusMarker,
  type CommentKind,
} from '../../src/templates/comment-marker.ts';
import { expiryReminderComment } from '../../src/templates/expiry-comment.ts';
import {
  authorNotRegisteredComment,
  brokenConfigComment,
  developmentCodeComment,
  needsConfigComment,
  needsInfoComment,
} from '../../src/templates/intake-comments.ts';
import { CA_DIR } from '../helpers/fixtures.ts';

const REQUEST_ID = '6f1c2a4e-8b7d-4c3a-9e21-0d5f7a1b2c3d';
const DASHBOARD = 'https://certs.example.nl/dashboard/connectors/hr_integration';
const APPROVERS = {
  users: ['alice', 'bob-2'],
  teams: [{ org: 'zorggroep-oost', slug: 'certificate-approvers' }],
};
const APPROVER_MENTIONS = ['alice', 'bob-2', 'zorggroep-oost/certificate-approvers'];
const CSR_SHA256 = '3f9a0c1e5b7d2a4c6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f809';
const SERIAL = '4a1f3c0b9d2e7f6a8b5c4d3e2f1a0b9c';
const PEM = readFileSync(join(CA_DIR, 'ca.pem'), 'utf8');

interface Inspection {
  /** `@login` and `@org/team` mentions outside code, in order. */
  mentions: string[];
  /** Targets of `[text](target)` links outside code. */
  links: string[];
  /** The contents of fenced code blocks. */
  codeBlocks: string[];
  /** Everything that lets text reach someone or something, or act as a command. */
  dangers: string[];
}

// What parseCommand skips at the start of a line (src/core/command.ts): a command's `/` counts
// even behind these.
const INVISIBLE_START = /^[\s\u180e\u200b-\u200d\u2060\ufeff]*/;

/**
 * Reads a comment as GitHub and the command parser would: the marker must be the last line,
 * fenced blocks and code spans are set aside, and what is left may hold no HTML, no bare URL,
 * no issue reference, no link or bracket other than `[text](url)`, and no line outside fenced
 * code that starts with `/`, even behind invisible characters. Mentions and links are returned for the caller to compare.
 */
function inspect(markdown: string): Inspection {
  const dangers: string[] = [];
  if (/[\r\u0085\u2028\u2029]/.test(markdown)) dangers.push('line break other than \\n');
  const lines = markdown.split('\n');
  const last = lines.pop() ?? '';
  if (findMarker(last) === undefined) dangers.push('no marker on the last line');

  const prose: string[] = [];
  const codeBlocks: string[] = [];
  let fence: Fence | undefined;
  let block: string[] = [];
  for (const line of lines) {
    if (fence) {
      if (closesFence(fence, line)) {
        codeBlocks.push(block.join('\n'));
        fence = undefined;
      } else block.push(line);
      continue;
    }
    fence = openFence(line);
    block = [];
    if (!fence) prose.push(line);
  }
  if (fence) dangers.push('unclosed code block');
  // Fenced blocks hold only our PEMs (the builders' tests check there is no other), whose base64
  // lines may start with `/`; the command parser skips code anyway.
  if (prose.some((line) => line.replace(INVISIBLE_START, '').startsWith('/'))) dangers.push('command line');

  let text = prose.map(withoutCodeSpans).join('\n');
  const links = [...text.matchAll(/\[[^\]\n]*\]\(([^)\s]*)\)/g)].map((m) => m[1] ?? '');
  text = text.replace(/\[[^\]\n]*\]\(([^)\s]*)\)/g, ' LINK ');
  const mentions = [...text.matchAll(/@([A-Za-z0-9][A-Za-z0-9_-]*(?:\/[A-Za-z0-9_-]+)?)/g)].map(
    (m) => m[1] ?? '',
  );
  if (/[[\]]/.test(text)) dangers.push('bracket (link or reference)');
  if (text.includes('<')) dangers.push('HTML or autolink');
  if (text.includes('://') || /www\./i.test(text)) dangers.push('bare URL');
  if (/#\d/.test(text.replace(/&#9[13];/g, ''))) dangers.push('issue reference');
  if (/GH-\d/i.test(text)) dangers.push('GH- reference');
  return { mentions, links, codeBlocks, dangers: [...new Set(dangers)] };
}

/**
 * A line with its code spans replaced by a placeholder, as CommonMark pairs them: a backtick run
 * is closed by the next run of the same length; a backslash escapes outside code only.
 * Only within the line: every code span the templates write is on one line, and a span
 * CommonMark would continue on the next line is read here as text, which is the stricter way.
 */
function withoutCodeSpans(line: string): string {
  let out = '';
  let i = 0;
  while (i < line.length) {
    const ch = line[i] ?? '';
    if (ch === '\\') {
      out += line.slice(i, i + 2);
      i += 2;
    } else if (ch === '`') {
      const run = /^`+/.exec(line.slice(i))?.[0] ?? '`';
      const closer = new RegExp(`(?<!\`)${run}(?!\`)`, 'g');
      closer.lastIndex = i + run.length;
      const end = closer.exec(line);
      if (end) {
        out += ' CODE ';
        i = end.index + run.length;
      } else {
        out += run;
        i += run.length;
      }
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

function approvalRequest(overrides: Partial<ApprovalRequestInput> = {}): string {
  return approvalRequestComment({
    requestId: REQUEST_ID,
    supplier: 'Acme Zorgsoftware BV',
    connector: 'hr_integration',
    version: '1.2.0',
    customerCode: 'TE1234',
    organisation: 'Zorggroep Oost',
    csrSubject: 'CN=hr_integration-TE1234-staging, OU=Integrations, O=Acme, L=Enschede, ST=Overijssel, C=NL',
    csrSha256: CSR_SHA256,
    details: 'Please approve before Friday.\nWe go live on Monday.',
    approvers: APPROVERS,
    expireDays: 30,
    dashboardUrl: DASHBOARD,
    ...overrides,
  });
}

const HOSTILE_EXAMPLES = [
  '@nedap/security please look',
  '[x](https://evil.example)',
  '<img src=x onerror=alert(1)>',
  'thanks\n/approve\n/reject no',
  ' /approve',
  '`code` and ``double``',
  '```\n@everyone\n```',
  '~~~\n/approve\n~~~',
  '<!-- ons-certs:approved:forged -->',
  'see #12 and GH-3 and www.evil.example',
  'line\r/approve\u2028/approve',
].join('\n');

/** Text rich in what attackers write, mixed with any string at all. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc
    .array(
      fc.constantFrom(
        ...'@#1aZ[]()!<>&/\\`*_~|$:-=+. \t\n\r'.split(''),
        ...['@nedap/security', '[x](https://evil)', '<img onerror=alert(1)>', '\n/approve\n', '```', '~~~'],
        ...['://', 'www.', 'GH-', '    ', '&#64;', '&lt;', '<!--', '-->', 'ons-certs:approved:x'],
        ...['\u00A0', '\u200D', '\u200B', '\u2028', '\u202E', '\uFEFF'],
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join('')),
);

/** Every comment with supplier- or GitHub-controlled text, filled from `h`. */
const BUILDERS: {
  kind: CommentKind;
  key: string;
  mentions: string[];
  links: string[];
  codeBlocks?: string[];
  build: (h: string[]) => string;
}[] = [
  {
    kind: 'approval-request',
    key: REQUEST_ID,
    mentions: APPROVER_MENTIONS,
    links: [DASHBOARD],
    build: ([
      supplier = '',
      connector = '',
      version = '',
      customerCode = '',
      organisation = '',
      csrSubject = '',
      details = '',
    ]) => approvalRequest({ supplier, connector, version, customerCode, organisation, csrSubject, details }),
  },
  {
    kind: 'needs-info',
    key: '17',
    mentions: [],
    links: [],
    build: (h) => needsInfoComment({ issueNumber: 17, problems: h.slice(0, 3) }),
  },
  {
    kind: 'development-code',
    key: '17',
    mentions: [],
    links: [DASHBOARD],
    build: ([customerCode = '']) =>
      developmentCodeComment({ issueNumber: 17, customerCode, dashboardUrl: DASHBOARD }),
  },
  {
    kind: 'needs-config',
    key: '17',
    mentions: [],
    links: [],
    build: ([customerCode = '']) => needsConfigComment({ issueNumber: 17, customerCode }),
  },
  {
    kind: 'broken-config',
    key: '17',
    mentions: [],
    links: [],
    build: ([a = '', b = '']) =>
      brokenConfigComment({ issueNumber: 17, problems: [a, `organisations[0].name: ${b}`] }),
  },
  {
    kind: 'author-not-registered',
    key: '17',
    mentions: [],
    links: [],
    build: ([author = '', supplier = '']) =>
      authorNotRegisteredComment({ issueNumber: 17, author, supplier }),
  },
  {
    kind: 'refusal',
    key: '9001',
    mentions: [],
    links: [],
    build: ([commenter = '', message = '']) =>
      refusalReply({ commentId: 9001, commenter, reason: 'not_an_approver', message }),
  },
  {
    kind: 'unknown-command',
    key: '9001',
    mentions: [],
    links: [],
    build: ([commenter = '', word = '']) => unknownCommandReply({ commentId: 9001, commenter, word }),
  },
  {
    kind: 'approved',
    key: REQUEST_ID,
    mentions: [],
    links: [DASHBOARD],
    codeBlocks: [PEM.replace(/\n$/, '')],
    build: ([approver = '', commonName = '', serial = '', fingerprintSha256 = '']) =>
      approvedComment({ ...issued(), approver, commonName, serial, fingerprintSha256 }),
  },
  {
    kind: 'renewed',
    key: REQUEST_ID,
    mentions: [],
    links: [DASHBOARD],
    codeBlocks: [PEM.replace(/\n$/, '')],
    build: ([approver = '', commonName = '']) =>
      renewedComment({
        ...issued(),
        commonName,
        consent: { approver, approvedAt: new Date('2025-01-02T03:04:05Z') },
      }),
  },
  {
    kind: 'rejected',
    key: REQUEST_ID,
    mentions: [],
    links: [],
    build: ([approver = '', reason = '']) => rejectedComment({ requestId: REQUEST_ID, approver, reason }),
  },
  {
    kind: 'expiry-reminder',
    key: SERIAL,
    mentions: [],
    links: [DASHBOARD],
    build: ([commonName = '']) => expiryReminderComment({ ...expiring(), commonName }),
  },
];

function expiring() {
  return {
    serial: SERIAL,
    commonName: 'hr_integration-TE1234-staging',
    notAfter: new Date('2027-01-05T14:03:00Z'),
    now: new Date('2026-12-06T10:00:00Z'),
    dashboardUrl: DASHBOARD,
  };
}

function issued() {
  return {
    requestId: REQUEST_ID,
    approver: 'alice',
    pem: PEM,
    serial: '4a1f3c0b9d2e7f6a8b5c4d3e2f1a0b9c',
    fingerprintSha256: 'ab'.repeat(32),
    notBefore: new Date('2025-05-01T11:59:00Z'),
    notAfter: new Date('2026-05-01T12:00:00Z'),
    commonName: 'hr_integration-TE1234-staging',
    dashboardUrl: DASHBOARD,
  };
}

describe('the checker', () => {
  it('finds every danger in unescaped text, so that an empty list means something', () => {
    const raw =
      '@alice [x](https://evil) [ref] <img onerror=x> https://bare www.x #12 GH-3\r\n' +
      '/approve\n\u200B/reject\n```\nopen\n\n<!-- ons-certs:expired:1 -->';
    expect(inspect(raw)).toEqual({
      mentions: ['alice'],
      links: ['https://evil'],
      codeBlocks: [],
      dangers: [
        'line break other than \\n',
        'unclosed code block',
        'command line',
        'bracket (link or reference)',
        'HTML or autolink',
        'bare URL',
        'issue reference',
        'GH- reference',
      ],
    });
    expect(inspect('text\n\n<!-- not ours -->').dangers).toEqual(['no marker on the last line']);
    // The guard escapeMarkdown puts before a `/` is skipped by the command parser, so it does not count.
    expect(inspect('\u200B\u00A0/approve\n\n<!-- ons-certs:expired:1 -->').dangers).toEqual(['command line']);
  });

  it('sets code aside as GitHub does', () => {
    const md = 'a `@x <b>` b ``c ` [d](e)`` \\`@y\\`\n\n```\n@z\n```\n\n<!-- ons-certs:expired:1 -->';
    expect(inspect(md)).toEqual({ mentions: ['y'], links: [], codeBlocks: ['@z'], dangers: [] });
  });
});

describe('statusMarker and findMarker', () => {
  it('round-trip every kind with request ids and numbers', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COMMENT_KINDS), fc.oneof(fc.uuid(), fc.nat()), (kind, key) => {
        const marker = statusMarker(kind, key);
        expect(marker).toBe(`<!-- ons-certs:${kind}:${key} -->`);
        expect(findMarker(`Some text\n\n${marker}`)).toEqual({ kind, key: String(key) });
      }),
    );
  });

  it('refuses keys a marker cannot carry', () => {
    for (const key of ['', 'a b', 'x-->', '-1', 'a:b', 'x'.repeat(101), -1, 1.5, Number.NaN])
      expect(() => statusMarker('approved', key)).toThrow(TypeError);
    expect(() => statusMarker('bogus' as CommentKind, 1)).toThrow(TypeError);
  });

  it.each<[string, unknown]>([
    ['a marker on the last line', `text\n<!-- ons-certs:approved:${REQUEST_ID} -->`],
    [
      'with trailing blank lines and CRLF',
      `text\r\n\r\n  <!-- ons-certs:approved:${REQUEST_ID} -->  \r\n\r\n`,
    ],
  ])('reads %s', (_, body) => {
    expect(findMarker(body)).toEqual({ kind: 'approved', key: REQUEST_ID });
  });

  it.each<[string, unknown]>([
    ['not a string', 42],
    ['null', null],
    ['an empty body', ''],
    ['a marker followed by text', '<!-- ons-certs:approved:1 -->\nthanks'],
    ['an unknown kind', '<!-- ons-certs:merged:1 -->'],
    ['another prefix', '<!-- other-bot:approved:1 -->'],
    ['extra spaces', '<!--  ons-certs:approved:1 -->'],
    ['text before it', 'x <!-- ons-certs:approved:1 -->'],
    ['a key with a space', '<!-- ons-certs:approved:1 2 -->'],
    ['a marker in inline code', '`<!-- ons-certs:approved:1 -->`'],
  ])('returns undefined for %s', (_, body) => {
    expect(findMarker(body)).toBeUndefined();
  });

  it('never throws, whatever it is given', () => {
    const markerish = fc
      .array(fc.constantFrom('<!--', '-->', ' ', 'ons-certs:', 'approved', ':', '1', '\n', '\r', 'x'), {
        maxLength: 20,
      })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.string({ unit: 'binary' }), markerish), (body) => {
        const found = findMarker(body);
        if (found !== undefined) expect(COMMENT_KINDS).toContain(found.kind);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a long body quickly', () => {
    const body = `${'<!-- ons-certs:'.repeat(50_000)}\n${'a'.repeat(100_000)}`;
    const start = performance.now();
    expect(findMarker(body)).toBeUndefined();
    expect(performance.now() - start).toBeLessThan(200);
  });
});

describe('every comment', () => {
  const quiet = [
    reminderComment({ requestId: REQUEST_ID, approvers: APPROVERS, daysWaiting: 3, expiresInDays: 27 }),
    expiredComment({ requestId: REQUEST_ID, expireDays: 30 }),
    csrChangedComment({ requestId: REQUEST_ID }),
  ];

  it('ends with its marker and is safe with ordinary values', () => {
    for (const { kind, key, mentions, links, codeBlocks = [], build } of BUILDERS) {
      const out = build(['Acme', 'hr_integration', '1.2.0', 'TE1234', 'Zorggroep Oost', 'CN=x', 'hi']);
      expect(findMarker(out), kind).toEqual({ kind, key });
      expect(inspect(out), kind).toEqual({ mentions, links, codeBlocks, dangers: [] });
    }
    for (const out of quiet) expect(inspect(out).dangers).toEqual([]);
    expect(quiet.map((out) => findMarker(out)?.kind)).toEqual(['reminder', 'expired', 'csr-changed']);
  });

  it('is written without emoji', () => {
    const ours = BUILDERS.map(({ build }) =>
      build(['Acme', 'hr_integration', '1.2.0', 'TE1234', 'Oost', 'CN=x', 'hi']),
    );
    for (const out of [...ours, ...quiet]) expect(out).not.toMatch(/\p{Extended_Pictographic}/u);
  });

  it('stays safe with hostile text in every field someone else controls', () => {
    const h = HOSTILE_EXAMPLES.split('\n\n');
    for (const { kind, key, mentions, links, codeBlocks = [], build } of BUILDERS) {
      const out = build([HOSTILE_EXAMPLES, ...h, HOSTILE_EXAMPLES, HOSTILE_EXAMPLES, HOSTILE_EXAMPLES]);
      expect(findMarker(out), kind).toEqual({ kind, key });
      expect(inspect(out), kind).toEqual({ mentions, links, codeBlocks, dangers: [] });
    }
  });

  it('stays safe for any text in the fields someone else controls', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...BUILDERS),
        fc.array(hostile, { minLength: 7, maxLength: 7 }),
        (builder, h) => {
          const { kind, key, mentions, links, codeBlocks = [] } = builder;
          const out = builder.build(h);
          expect(findMarker(out)).toEqual({ kind, key });
          expect(inspect(out)).toEqual({ mentions, links, codeBlocks, dangers: [] });
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('stays within GitHub limit of 65,536 characters whatever the supplier wrote', () => {
    const huge = '&<[@'.repeat(20_000);
    for (const { kind, build } of BUILDERS) {
      const out = build(Array.from({ length: 7 }, () => huge));
      expect(out.length, kind).toBeLessThan(65_536);
      expect(inspect(out).dangers, kind).toEqual([]);
    }
  });
});

describe('approvalRequestComment', () => {
  const out = approvalRequest();

  it('mentions each approver exactly once', () => {
    expect(inspect(out).mentions).toEqual(APPROVER_MENTIONS);
    const repeated = approvalRequest({
      approvers: {
        users: ['alice', 'Alice', '@alice', 'bob-2'],
        teams: [...APPROVERS.teams, { org: 'Zorggroep-Oost', slug: 'Certificate-Approvers' }],
      },
    });
    expect(inspect(repeated).mentions).toEqual(APPROVER_MENTIONS);
  });

  it('shows the summary: supplier, connector, version, customer code, organisation, CSR subject and fingerprint', () => {
    expect(out).toContain('Acme Zorgsoftware BV');
    expect(out).toContain('`hr_integration`, version `1.2.0`');
    expect(out).toContain('Customer code: `TE1234` (staging), of Zorggroep Oost');
    expect(out).toContain(
      '`CN=hr_integration-TE1234-staging, OU=Integrations, O=Acme, L=Enschede, ST=Overijssel, C=NL`',
    );
    expect(out).toContain(`CSR SHA-256 fingerprint: \`${CSR_SHA256}\``);
  });

  it('quotes the details', () => {
    expect(out).toContain('> Please approve before Friday.\n> We go live on Monday.');
    expect(approvalRequest({ details: undefined })).not.toContain('Details');
    expect(approvalRequest({ details: '  \n ' })).not.toContain('Details');
  });

  it('says exactly how to answer, and that the approval binds to the CSR fingerprint', () => {
    expect(out).toContain('first line is one of');
    expect(out).toContain('`/approve`');
    expect(out).toContain('`/reject <reason>`');
    expect(out).toContain(`An approval applies to exactly this CSR, SHA-256 fingerprint \`${CSR_SHA256}\``);
    expect(out).toContain('asked again');
    expect(out).toContain('within 30 days');
    expect(out).toContain(`[the certificates dashboard](${DASHBOARD})`);
  });

  it('turns hostile supplier text into inert text', () => {
    const evil = approvalRequest({
      supplier: '@nedap/security',
      connector: '[x](https://evil)',
      csrSubject: '<img src=x onerror=alert(1)>\n/approve',
      details: HOSTILE_EXAMPLES,
    });
    expect(inspect(evil)).toMatchObject({ mentions: APPROVER_MENTIONS, links: [DASHBOARD], dangers: [] });
    expect(evil).toContain('nedap/security');
    expect(evil).toContain('`[x](https://evil)`');
    expect(evil).toContain('`<img src=x onerror=alert(1)> /approve`');
  });

  it('says so when nobody is listed, and mentions no one', () => {
    const none = approvalRequest({ approvers: { users: [], teams: [] } });
    expect(inspect(none)).toMatchObject({ mentions: [], dangers: [] });
    expect(none).toContain('No approvers are listed');
  });

  it('mentions a managed user of GitHub Enterprise Cloud by its whole login', () => {
    const out = approvalRequest({ approvers: { users: ['mona-cat_acme'], teams: [] } });
    expect(inspect(out)).toMatchObject({ mentions: ['mona-cat_acme'], dangers: [] });
  });

  it('writes an entry that is not a login as text, not as a mention', () => {
    expect(approverMentions({ users: ['alice', 'nedap/security', 'a b'], teams: [] })).toEqual([
      '@alice',
      'nedap/security',
      'a b',
    ]);
    const odd = approvalRequest({
      approvers: { users: ['@nedap/security'], teams: [{ org: 'x y', slug: 'z' }] },
    });
    expect(inspect(odd)).toMatchObject({ mentions: [], dangers: [] });
  });

  it('shows a dashboard URL that is not http(s) as words, not a link', () => {
    const js = approvalRequest({ dashboardUrl: 'javascript:alert(1)' });
    expect(inspect(js)).toMatchObject({ links: [], dangers: [] });
    expect(js).toContain('the certificates dashboard');
    expect(inspect(approvalRequest({ dashboardUrl: 'not a url' })).links).toEqual([]);
    expect(inspect(approvalRequest({ dashboardUrl: 'https://x.example/a(b) c' })).links).toEqual([
      'https://x.example/a%28b%29%20c',
    ]);
  });
});

describe('reminderComment', () => {
  it('re-mentions the approvers and says how long it waited and when it expires', () => {
    const out = reminderComment({
      requestId: REQUEST_ID,
      approvers: APPROVERS,
      daysWaiting: 3,
      expiresInDays: 27,
    });
    expect(inspect(out)).toMatchObject({ mentions: APPROVER_MENTIONS, dangers: [] });
    expect(out).toContain('waiting for a decision for 3 days');
    expect(out).toContain('expires in 27 days');
    const last = reminderComment({
      requestId: REQUEST_ID,
      approvers: APPROVERS,
      daysWaiting: 1,
      expiresInDays: 0,
    });
    expect(last).toContain('for 1 day.');
    expect(last).toContain('expires today');
  });
});

describe('needsInfoComment', () => {
  it('lists every problem, escaped, and says that editing re-checks the ticket', () => {
    const out = needsInfoComment({
      issueNumber: 17,
      problems: [
        'Version is empty: enter the connector version',
        'the connector "@nedap/x" must be its technical name',
      ],
    });
    expect(out).toContain('- Version is empty: enter the connector version.');
    expect(out).toContain(`- The connector "@\u200Dnedap/x" must be its technical name.`);
    expect(out).toContain('checks the ticket again after every edit');
    expect(inspect(out)).toMatchObject({ mentions: [], dangers: [] });
  });

  it('counts problems beyond the first 40', () => {
    const out = needsInfoComment({
      issueNumber: 1,
      problems: Array.from({ length: 45 }, (_, i) => `problem ${i}`),
    });
    expect(out).toContain('- Problem 39.');
    expect(out).not.toContain('Problem 40');
    expect(out).toContain('…and 5 more problems.');
  });
});

describe('the configuration comments', () => {
  it('developmentCodeComment: development certificates are signed in the dashboard, without a ticket', () => {
    const out = developmentCodeComment({ issueNumber: 17, customerCode: 'TE1002', dashboardUrl: DASHBOARD });
    expect(out).toContain('`TE1002`');
    expect(out).toContain('no ticket');
    expect(out).toContain(`(${DASHBOARD})`);
  });

  it('needsConfigComment asks Nedap support to add the code to the approvers file', () => {
    const out = needsConfigComment({ issueNumber: 17, customerCode: 'CF1234' });
    expect(out).toContain('`CF1234`');
    expect(out).toContain('`.github/ons-certificates.yml`');
    expect(out).toContain('Nedap support');
  });

  it('brokenConfigComment names each problem, with its place in the file as code', () => {
    const out = brokenConfigComment({
      issueNumber: 17,
      problems: [
        'organisations[1].customer_codes[0]: "TE1002" is the development code',
        'expire_days: 3 must be more than reminder_days (3)',
        'the file .github/ons-certificates.yml is missing',
      ],
    });
    expect(out).toContain('- `organisations[1].customer_codes[0]`: "TE1002" is the development code');
    expect(out).toContain('- `expire_days`: 3 must be more than reminder\\_days (3)');
    expect(out).toContain('- the file .github/ons-certificates.yml is missing');
    expect(inspect(out).dangers).toEqual([]);
  });

  it('authorNotRegisteredComment names the login and the supplier without mentioning anyone', () => {
    const out = authorNotRegisteredComment({ issueNumber: 17, author: 'mallory', supplier: 'Acme BV' });
    expect(out).toContain(
      'The GitHub account mallory, which opened this ticket, is not registered for Acme BV',
    );
    expect(out).toContain('Nedap support');
    expect(out).toContain('edit this ticket');
    expect(inspect(out).mentions).toEqual([]);
  });
});

describe('approvedComment and renewedComment', () => {
  const out = approvedComment(issued());

  it('carries the PEM in a fenced block that gives back the exact PEM', () => {
    expect(inspect(out).codeBlocks).toEqual([PEM.replace(/\n$/, '')]);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), (der) => {
        const pem = toPem('CERTIFICATE', der);
        const [block] = inspect(approvedComment({ ...issued(), pem })).codeBlocks;
        expect(`${block}\n`).toBe(pem);
      }),
    );
  });

  it('shows serial, fingerprint, validity in UTC, the dashboard link and how to renew', () => {
    expect(out).toContain('Serial: `4a1f3c0b9d2e7f6a8b5c4d3e2f1a0b9c`');
    expect(out).toContain(`SHA-256 fingerprint: \`${'ab'.repeat(32)}\``);
    expect(out).toContain('Common name: `hr_integration-TE1234-staging`');
    expect(out).toContain('Valid from 2025-05-01 11:59:00 UTC until 2026-05-01 12:00:00 UTC');
    expect(out).toContain(`[the certificates dashboard](${DASHBOARD})`);
    expect(out).toContain('upload a new CSR (with a new key)');
    expect(out).toContain('without a ticket');
  });

  it('names the approver without mentioning them', () => {
    expect(out).toContain('Approved by alice for the healthcare organisation');
    expect(inspect(out)).toMatchObject({ mentions: [], links: [DASHBOARD], dangers: [] });
  });

  it('renewedComment says no one was asked, and names the earlier consent when known', () => {
    const renewed = renewedComment({
      ...issued(),
      consent: { approver: 'alice', approvedAt: new Date('2025-01-02T03:04:05Z') },
    });
    expect(renewed).toContain('given by alice on 2025-01-02 03:04:05 UTC');
    expect(renewed).toContain('without asking the approvers again');
    expect(inspect(renewed).codeBlocks).toEqual([PEM.replace(/\n$/, '')]);
    expect(renewedComment(issued())).toContain('customer code, so the CSR');
  });

  it('writes an invalid date as unknown rather than failing after signing', () => {
    expect(approvedComment({ ...issued(), notAfter: new Date(Number.NaN) })).toContain(
      'until an unknown time',
    );
  });
});

describe('rejectedComment, expiredComment and csrChangedComment', () => {
  it('quotes the reason and says the supplier may upload a new CSR and open a new ticket', () => {
    const out = rejectedComment({
      requestId: REQUEST_ID,
      approver: 'alice',
      reason: 'Not our supplier.\n/approve',
    });
    expect(out).toContain('> Not our supplier.\n> \\/approve');
    expect(out).toContain('upload a new CSR');
    expect(out).toContain('open a new ticket');
    expect(inspect(out)).toMatchObject({ mentions: [], dangers: [] });
    expect(rejectedComment({ requestId: REQUEST_ID, approver: 'alice', reason: ' ' })).toContain(
      '(no reason given)',
    );
  });

  it('expiredComment names the number of days', () => {
    expect(expiredComment({ requestId: REQUEST_ID, expireDays: 30 })).toContain('within 30 days');
  });

  it('csrChangedComment says the approvers are asked again', () => {
    expect(csrChangedComment({ requestId: REQUEST_ID })).toContain('asked again');
  });
});

describe('expiryReminderComment', () => {
  it('says when the certificate expires and how to renew, mentioning nobody', () => {
    const out = expiryReminderComment(expiring());
    expect(findMarker(out)).toEqual({ kind: 'expiry-reminder', key: SERIAL });
    expect(inspect(out)).toMatchObject({ mentions: [], links: [DASHBOARD], dangers: [] });
    expect(out).toContain('`hr_integration-TE1234-staging` with serial `4a1f3c0b9d2e7f6a8b5c4d3e2f1a0b9c`');
    expect(out).toContain('expires on 2027-01-05 14:03:00 UTC, in 30 days.');
    expect(out).toContain('uploads a new CSR (with a new key) on the same line');
    expect(out).toContain('without a new ticket');
  });

  it('counts whole days, and says so once it has expired', () => {
    const at = (ms: number) =>
      expiryReminderComment({ ...expiring(), now: new Date(Date.parse('2027-01-05T14:03:00Z') - ms) });
    expect(at(36 * 3_600_000)).toContain(', in 1 day.');
    expect(at(3_600_000)).toContain(', in less than a day.');
    expect(at(-1)).toContain('expired on 2027-01-05 14:03:00 UTC.');
  });
});

describe('the replies to commands', () => {
  const reasons: RefusalReason[] = [
    'not_new_comment',
    'bot',
    'ticket_author',
    'supplier_login',
    'no_approvers',
    'not_an_approver',
  ];

  it.each(reasons)('refusalReply explains %s in one short comment', (reason) => {
    const decided = mayDecide({
      commenter: { login: 'carol', id: 3, type: reason === 'bot' ? 'Bot' : 'User' },
      ticketAuthor: { login: reason === 'ticket_author' ? 'carol' : 'dave', id: 4 },
      supplierLogins: reason === 'supplier_login' ? ['carol'] : [],
      approvers: reason === 'no_approvers' ? undefined : APPROVERS,
      memberOfTeams: [],
      commentAction: reason === 'not_new_comment' ? 'edited' : 'created',
    });
    expect(decided).toMatchObject({ ok: false, reason });
    const message = decided.ok ? '' : decided.message;
    const out = refusalReply({ commentId: 9001, commenter: 'carol', reason, message });
    expect(out).toContain('The command from carol was not carried out');
    expect(out).toContain(message.slice(0, 30));
    expect(out.length).toBeLessThan(400);
    expect(inspect(out)).toMatchObject({ mentions: [], dangers: [] });
    expect(refusalReply({ commentId: 9001, commenter: 'carol', reason, message: '' })).toMatch(
      /changed\. \S/,
    );
  });

  it('unknownCommandReply shows the word and explains both commands', () => {
    const out = unknownCommandReply({ commentId: 9001, commenter: 'carol', word: '/lgtm' });
    expect(out).toContain('does not know `/lgtm`');
    expect(out).toContain('`/approve`');
    expect(out).toContain('`/reject <reason>`');
    expect(findMarker(out)).toEqual({ kind: 'unknown-command', key: '9001' });
  });

  it('unknownCommandReply explains that /approve must be alone on its line', () => {
    expect(unknownCommandReply({ commentId: 1, commenter: 'carol', word: '/Approve' })).toContain(
      'must be alone on its line',
    );
  });
});

it('marks comments with fresh request ids', () => {
  const requestId = randomUUID();
  expect(findMarker(expiredComment({ requestId, expireDays: 3 }))).toEqual({
    kind: 'expired',
    key: requestId,
  });
});
