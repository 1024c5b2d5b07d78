import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { certificateDisabledMail } from '../../src/templates/mail/disabled.ts';
import { expiredMail, expiryReminderMail } from '../../src/templates/mail/expiry.ts';
import { certificateIssuedMail, type IssuedHow } from '../../src/templates/mail/issued.ts';
import type { Mail } from '../../src/templates/mail/blocks.ts';
import type { CertificateFacts } from '../../src/templates/mail/certificate-blocks.ts';
import { formatMailDate } from '../../src/templates/mail/mail-dates.ts';
import { escapeHtml, safeHref } from '../../src/templates/mail/mail-text.ts';
import { subjectLine } from '../../src/templates/mail/render-text.ts';
import { requestRejectedMail, type RequestRejectedMailInput } from '../../src/templates/mail/rejected.ts';

const DASHBOARD = 'https://certs.example.nl/dashboard/connectors/hr_integration/1.2.0';
const DAY = 24 * 60 * 60 * 1000;

const FACTS: CertificateFacts = {
  supplier: 'Acme Zorgsoftware BV',
  connector: 'hr_integration',
  version: '1.2.0',
  customerCode: 'TE1234',
  commonName: 'hr_integration-TE1234-staging',
  serial: '4a1f3c0b9d2e7f6a8b5c4d3e2f1a0b9c',
  fingerprintSha256: 'ab'.repeat(32),
  notBefore: new Date('2026-01-05T14:02:00Z'),
  notAfter: new Date('2027-01-05T14:03:27Z'),
  dashboardUrl: DASHBOARD,
};
/** 30 days and a few hours before FACTS.notAfter. */
const NOW = new Date('2026-12-06T10:00:00Z');
const AT = new Date('2026-06-01T08:30:00Z');

function facts(overrides: Partial<CertificateFacts> = {}): CertificateFacts {
  return { ...FACTS, ...overrides };
}

function rejection(overrides: Partial<RequestRejectedMailInput> = {}): RequestRejectedMailInput {
  return {
    supplier: FACTS.supplier,
    connector: FACTS.connector,
    version: FACTS.version,
    customerCode: FACTS.customerCode,
    reason: 'We do not work with this supplier.\nPlease contact our IT department first.',
    approver: 'alice',
    dashboardUrl: DASHBOARD,
    ticket: 'nedap/support#123',
    ...overrides,
  };
}

/** Every mail kind, from certificate facts and the values of the extra fields. */
const KINDS: { name: string; build: (f: CertificateFacts, extra: string[]) => Mail }[] = [
  { name: 'expiry reminder', build: (f) => expiryReminderMail({ ...f, now: NOW }) },
  { name: 'expired', build: (f) => expiredMail({ ...f, now: new Date(f.notAfter.getTime() + 3 * DAY) }) },
  ...(['development', 'approval', 'renewal'] as const).map((how) => ({
    name: `issued (${how})`,
    build: (f: CertificateFacts, [approver = 'alice']: string[]) =>
      certificateIssuedMail({ ...f, how, approver }),
  })),
  {
    name: 'rejected',
    build: (f, [approver = 'alice', reason = 'No.', ticket = 'nedap/support#123'] = []) =>
      requestRejectedMail({ ...f, approver, reason, ticket }),
  },
  {
    name: 'disabled',
    build: (f, [by = 'jan@acme.example', reason = 'Key leaked'] = []) =>
      certificateDisabledMail({ ...f, by, reason, at: AT }),
  },
];

// The tags and attributes the renderer writes; nothing else may be markup.
const TAG = /<(?:!DOCTYPE html|\/?[a-z]+(?:\s+[a-z-]+="[^"<>]*")*)>/g;
const TAG_NAMES = new Set([
  'html',
  'head',
  'meta',
  'title',
  'body',
  'div',
  'p',
  'table',
  'tr',
  'th',
  'td',
  'blockquote',
  'pre',
  'code',
  'a',
  'br',
]);
const ATTRIBUTES = new Set(['lang', 'charset', 'name', 'content', 'style', 'role', 'scope', 'href']);

interface HtmlInspection {
  /** The document with every tag of ours removed: text and character references only. */
  text: string;
  hrefs: string[];
  problems: string[];
}

/** Checks that the only markup is the renderer's own tags, and that the rest is escaped text. */
function inspectHtml(html: string): HtmlInspection {
  const problems: string[] = [];
  const hrefs: string[] = [];
  if (!html.startsWith('<!DOCTYPE html>\n<html lang="en">')) problems.push('not a document');
  if (/<script/i.test(html)) problems.push('script');
  for (const [tag] of html.matchAll(TAG)) {
    if (tag === '<!DOCTYPE html>') continue;
    const name = /^<\/?([a-z]+)/.exec(tag)?.[1] ?? '';
    if (!TAG_NAMES.has(name)) problems.push(`tag ${name}`);
    for (const [, attribute = '', value = ''] of tag.matchAll(/\s([a-z-]+)="([^"]*)"/g)) {
      if (!ATTRIBUTES.has(attribute)) problems.push(`attribute ${attribute}`);
      if (attribute === 'href') {
        hrefs.push(value);
        if (!/^https?:\/\//.test(value)) problems.push(`href ${value}`);
      }
      if (attribute === 'style' && /url\(|expression|@import/i.test(value)) problems.push('external style');
    }
  }
  const text = html.replace(TAG, '');
  if (/[<>"']/.test(text)) problems.push('unescaped character outside the tags');
  if (/&(?!(?:amp|lt|gt|quot|#39);)/.test(text)) problems.push('bare ampersand');
  return { text, hrefs, problems: [...new Set(problems)] };
}

/** What a reader sees of the HTML: its text with the character references resolved. */
function visibleText(html: string): string {
  return html
    .replace(/<\/?(?:a|code)\b[^>]*>/g, '')
    .replace(TAG, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

describe('the checker', () => {
  it('finds markup that is not ours', () => {
    const ours = expiryReminderMail({ ...FACTS, now: NOW }).html;
    expect(inspectHtml(ours).problems).toEqual([]);
    const bad = (body: string) => inspectHtml(ours.replace('<div style', `${body}<div style`)).problems;
    expect(bad('<script>alert(1)</script>')).toContain('script');
    expect(bad('<img src=x onerror=alert(1)>')).toContain('unescaped character outside the tags');
    expect(bad('<img src="x">')).toEqual(['tag img', 'attribute src']);
    expect(bad('<a href="javascript:alert(1)">x</a>')).toEqual(['href javascript:alert(1)']);
    expect(bad('"')).toEqual(['unescaped character outside the tags']);
    expect(bad('a & b')).toEqual(['bare ampersand']);
  });
});

describe('every mail', () => {
  it('is a small self-contained HTML document: only our tags, no scripts or external resources', () => {
    for (const { name, build } of KINDS) {
      const { html } = build(FACTS, []);
      const { hrefs, problems } = inspectHtml(html);
      expect(problems, name).toEqual([]);
      expect(hrefs.length, name).toBeGreaterThan(0);
      expect(new Set(hrefs), name).toEqual(new Set([DASHBOARD]));
      expect(html, name).not.toMatch(/<(?:link|img|script|style|iframe|object|form)\b|src=/i);
      expect(html.trimEnd().endsWith('</html>'), name).toBe(true);
    }
  });

  it('greets the supplier and carries the dashboard link in the text and in the HTML', () => {
    for (const { name, build } of KINDS) {
      const mail = build(FACTS, []);
      expect(mail.text, name).toMatch(/^Hello Acme Zorgsoftware BV,\n/);
      expect(mail.text, name).toContain(`<${DASHBOARD}>`);
      expect(mail.html, name).toContain(`<a href="${DASHBOARD}"`);
      expect(mail.html, name).toContain('Acme Zorgsoftware BV');
      expect(mail.subject, name).toContain('hr_integration (TE1234)');
      expect(mail.subject.length, name).toBeLessThan(100);
      expect(mail.text, name).not.toMatch(/\p{Extended_Pictographic}/u);
    }
  });

  it('names the connector, version, customer code and, with a certificate, its CN, serial and dates', () => {
    for (const { name, build } of KINDS) {
      const mail = build(FACTS, []);
      const seen = visibleText(mail.html);
      for (const fact of [FACTS.connector, FACTS.version, FACTS.customerCode]) {
        expect(mail.text, `${name}: ${fact}`).toContain(fact);
        expect(seen, `${name}: ${fact}`).toContain(fact);
      }
      if (name === 'rejected') continue;
      for (const fact of [
        FACTS.commonName,
        FACTS.serial,
        FACTS.fingerprintSha256,
        '2026-01-05 14:02 UTC',
        '2027-01-05 14:03 UTC',
      ]) {
        expect(mail.text, `${name}: ${fact}`).toContain(fact);
        expect(seen, `${name}: ${fact}`).toContain(fact);
      }
    }
  });

  const HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "' onmouseover='alert(1)"];

  it('escapes supplier text with HTML in it in every field, and shows it as text', () => {
    for (const hostile of HOSTILE) {
      const f = facts({
        supplier: hostile,
        connector: hostile,
        version: hostile,
        customerCode: hostile,
        commonName: hostile,
        serial: hostile,
        fingerprintSha256: hostile,
      });
      for (const { name, build } of KINDS) {
        const mail = build(f, [hostile, hostile, hostile]);
        expect(inspectHtml(mail.html).problems, name).toEqual([]);
        expect(mail.html, name).not.toContain(hostile);
        expect(mail.html, name).toContain(escapeHtml(hostile));
        expect(visibleText(mail.html), name).toContain(hostile);
        expect(mail.text, name).toContain(hostile);
      }
    }
    expect(escapeHtml(HOSTILE[1] ?? '')).toBe('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
  });

  it('keeps the subject on one line whatever the values hold', () => {
    const injected = 'hr_integration\r\nBcc: victim@example.com\r\n\r\n<b>body</b>';
    for (const { name, build } of KINDS) {
      const mail = build(facts({ connector: injected, customerCode: 'TE1234\nX-Evil: 1' }), []);
      expect(mail.subject, name).not.toMatch(/[\r\n]/);
      expect(mail.subject, name).toContain('hr_integration Bcc: victim@example.com <b>body</b>');
      expect(mail.subject, name).toContain('(TE1234 X-Evil: 1)');
    }
    expect(subjectLine([{ value: 'a\u0000b\u0085c\u2028d\u202Ee\tf\u007F' }])).toBe('ab c de f');
  });

  it('shows a dashboard URL that is not http(s) as words, never as a link', () => {
    for (const url of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(document.cookie)',
      'data:text/html,x',
      'not a url',
    ]) {
      for (const { name, build } of KINDS) {
        const mail = build(facts({ dashboardUrl: url }), []);
        expect(inspectHtml(mail.html), name).toMatchObject({ hrefs: [], problems: [] });
        expect(mail.html, name).not.toContain('<a ');
        expect(mail.html.toLowerCase(), name).not.toContain('javascript:');
        expect(mail.text.toLowerCase(), name).not.toContain('javascript:');
        expect(mail.text, name).toContain('the certificates dashboard');
      }
    }
  });

  it('escapes the query of a dashboard URL in the href', () => {
    const url = 'https://certs.example.nl/d?a=1&b="2"';
    const { html } = expiryReminderMail({ ...facts({ dashboardUrl: url }), now: NOW });
    expect(html).toContain('<a href="https://certs.example.nl/d?a=1&amp;b=%222%22"');
    expect(inspectHtml(html).problems).toEqual([]);
  });
});

describe('expiryReminderMail', () => {
  const mail = expiryReminderMail({ ...FACTS, now: NOW });

  it('says which certificate expires when, in how many whole days', () => {
    expect(mail.subject).toBe('Your Ons API certificate for hr_integration (TE1234) expires in 30 days');
    expect(mail.text).toContain('expires on 2027-01-05 14:03 UTC, in 30 days');
    expect(visibleText(mail.html)).toContain('expires on 2027-01-05 14:03 UTC, in 30 days');
    expect(mail.text).toContain('TE1234 (staging)');
  });

  it('says how to renew: a new CSR with a new key on the same line, signed without a ticket', () => {
    for (const out of [mail.text, visibleText(mail.html)]) {
      expect(out).toContain('create a new private key and a CSR for it');
      expect(out).toContain('Use a new key');
      expect(out).toContain('already given its consent');
      expect(out).toContain('signed automatically: no new ticket is needed');
      expect(out).toContain(
        'openssl req -new -newkey rsa:4096 -nodes -keyout hr_integration-TE1234-staging.key ' +
          '-out hr_integration-TE1234-staging.csr -subj "/CN=hr_integration-TE1234-staging/OU=',
      );
    }
    expect(mail.html).toContain('<pre style=');
  });

  it('says a development certificate needs no approval', () => {
    const dev = expiryReminderMail({
      ...facts({ customerCode: 'TE1002', commonName: 'hr_integration-TE1002-dev' }),
      now: NOW,
    });
    expect(dev.text).toContain('TE1002 (development)');
    expect(dev.text).toContain('Development certificates need no approval');
    expect(dev.text).not.toContain('consent');
  });

  it.each<[string, number, string]>([
    ['30.9 days as 30 days', 30.9 * DAY, 'in 30 days'],
    ['2 days exactly', 2 * DAY, 'in 2 days'],
    ['1.99 days as 1 day', 1.99 * DAY, 'in 1 day'],
    ['1 day exactly', DAY, 'in 1 day'],
    ['less than a day', DAY - 1, 'in less than a day'],
  ])('counts %s', (_, left, words) => {
    const out = expiryReminderMail({ ...FACTS, now: new Date(FACTS.notAfter.getTime() - left) });
    expect(out.subject).toBe(`Your Ons API certificate for hr_integration (TE1234) expires ${words}`);
    expect(out.text).toContain(`, ${words}.`);
  });

  it('leaves out the OpenSSL hint when the CN is not safe in a shell command', () => {
    const out = expiryReminderMail({ ...facts({ commonName: 'x"; rm -rf ~; echo "' }), now: NOW });
    expect(out.text).not.toContain('openssl');
    expect(out.text).toContain('Use a new key');
  });

  it('is the expired mail once the certificate has expired', () => {
    const late = { ...FACTS, now: new Date(FACTS.notAfter.getTime() + 1000) };
    expect(expiryReminderMail(late)).toEqual(expiredMail(late));
  });

  it('writes invalid dates as unknown rather than failing', () => {
    const out = expiryReminderMail({ ...facts({ notAfter: new Date(Number.NaN) }), now: NOW });
    expect(out.subject).toBe('Your Ons API certificate for hr_integration (TE1234) expires soon');
    expect(out.text).toContain('an unknown time');
  });
});

describe('expiredMail', () => {
  const mail = expiredMail({ ...FACTS, now: new Date('2027-01-08T00:00:00Z') });

  it('says since when it has expired, that connections fail, and how to get a new one', () => {
    expect(mail.subject).toBe('Your Ons API certificate for hr_integration (TE1234) has expired');
    for (const out of [mail.text, visibleText(mail.html)]) {
      expect(out).toContain('expired on 2027-01-05 14:03 UTC');
      expect(out).toContain('connections that use it fail');
      expect(out).toContain('Use a new key');
      expect(out).toContain('no new ticket is needed');
    }
  });
});

describe('certificateIssuedMail', () => {
  const issued = (how: IssuedHow, approver?: string) => certificateIssuedMail({ ...FACTS, how, approver });

  it('starts with how the certificate came about', () => {
    const dev = certificateIssuedMail({ ...facts({ customerCode: 'TE1002' }), how: 'development' });
    expect(dev.subject).toBe('Your Ons API development certificate for hr_integration (TE1002) is ready');
    expect(dev.text).toContain("on Nedap's development environment (TE1002) has been signed at once");

    const approved = issued('approval', 'alice');
    expect(approved.subject).toBe(
      'Your Ons API certificate for hr_integration (TE1234) was approved and is ready',
    );
    expect(approved.text).toContain(
      'alice approved your request for connector hr_integration, version 1.2.0, customer code TE1234, ' +
        'on behalf of the healthcare organisation',
    );
    expect(issued('approval').text).toContain('The healthcare organisation approved your request');

    const renewed = issued('renewal');
    expect(renewed.subject).toBe('Your renewed Ons API certificate for hr_integration (TE1234) is ready');
    expect(renewed.text).toContain('had already given its consent');
    expect(renewed.text).toContain('without a ticket');
    expect(renewed.text).toContain('Your previous certificate on this line keeps working');
  });

  it('shows validity, serial, fingerprint and where to download it', () => {
    const mail = issued('approval', 'alice');
    for (const out of [mail.text, visibleText(mail.html)]) {
      expect(out).toMatch(/Serial number:?\s+4a1f3c0b9d2e7f6a8b5c4d3e2f1a0b9c/);
      expect(out).toMatch(/SHA-256 fingerprint:?\s+(ab){32}/);
      expect(out).toMatch(/Valid from:?\s+2026-01-05 14:02 UTC/);
      expect(out).toMatch(/Valid until:?\s+2027-01-05 14:03 UTC/);
      expect(out).toContain('Download the certificate (PEM file) from the certificates dashboard');
    }
  });
});

describe('requestRejectedMail', () => {
  const mail = requestRejectedMail(rejection());

  it('names the approver, quotes the reason and says what to do next', () => {
    expect(mail.subject).toBe('Your certificate request for hr_integration (TE1234) was rejected');
    expect(mail.text).toContain('was rejected by alice for the healthcare organisation');
    expect(mail.text).toContain(
      '> We do not work with this supplier.\n> Please contact our IT department first.',
    );
    expect(mail.html).toContain(
      '>We do not work with this supplier.<br>Please contact our IT department first.</blockquote>',
    );
    expect(mail.text).toContain('Ticket: nedap/support#123');
    for (const out of [mail.text, visibleText(mail.html)]) {
      expect(out).toContain('No certificate was issued');
      expect(out).toContain('upload a new CSR on the same line');
      expect(out).toContain('open a new ticket');
    }
  });

  it('does without a ticket or reason, and links a ticket URL', () => {
    const bare = requestRejectedMail(rejection({ ticket: undefined, reason: '  ' }));
    expect(bare.text).not.toContain('Ticket:');
    expect(bare.text).toContain('(No reason was given.)');
    const linked = requestRejectedMail(rejection({ ticket: 'https://github.com/nedap/support/issues/123' }));
    expect(inspectHtml(linked.html).hrefs).toEqual([
      'https://github.com/nedap/support/issues/123',
      DASHBOARD,
    ]);
    const script = requestRejectedMail(rejection({ ticket: 'javascript:alert(1)' }));
    expect(inspectHtml(script.html)).toMatchObject({ hrefs: [DASHBOARD], problems: [] });
  });

  it('quotes a reason with markup as text', () => {
    const out = requestRejectedMail(rejection({ reason: '</blockquote><script>alert(1)</script>' }));
    expect(inspectHtml(out.html).problems).toEqual([]);
    expect(out.html).toContain('&lt;/blockquote&gt;&lt;script&gt;alert(1)&lt;/script&gt;</blockquote>');
  });
});

describe('certificateDisabledMail', () => {
  const mail = certificateDisabledMail({
    ...FACTS,
    by: 'Jan de Vries',
    reason: 'The key was in a public repo',
    at: AT,
  });

  it('says who, when and why, and what it means', () => {
    expect(mail.subject).toBe('Your Ons API certificate for hr_integration (TE1234) has been disabled');
    expect(mail.text).toContain('was disabled by Jan de Vries on 2026-06-01 08:30 UTC, with this reason:');
    expect(mail.text).toContain('> The key was in a public repo');
    expect(mail.html).toMatch(/<blockquote[^>]*>The key was in a public repo<\/blockquote>/);
    for (const out of [mail.text, visibleText(mail.html)]) {
      expect(out).toContain('now fail at the Ons API gateway');
      expect(out).toContain('certificate revocation list (CRL)');
      expect(out).toContain(
        'If this was a mistake, the certificate can be enabled again from the certificates dashboard',
      );
      expect(out).toContain('do not use that key again');
      expect(out).toContain('create a new private key and a CSR for it');
    }
  });
});

describe('the helpers', () => {
  it('formatMailDate writes minutes in UTC', () => {
    expect(formatMailDate(new Date('2027-01-05T14:03:59.999Z'))).toBe('2027-01-05 14:03 UTC');
    expect(formatMailDate(new Date(Number.NaN))).toBe('an unknown time');
  });

  it('safeHref allows only absolute http(s) URLs', () => {
    expect(safeHref('https://x.example/a b')).toBe('https://x.example/a%20b');
    expect(safeHref('http://x.example')).toBe('http://x.example/');
    for (const url of ['javascript:alert(1)', ' javascript:x', 'data:x', 'mailto:a@b', '/relative', ''])
      expect(safeHref(url)).toBeUndefined();
  });
});

describe('with any text in every field', () => {
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc
      .array(
        fc.constantFrom(
          ...'<>&"\'/=\\`\r\n\t\u0000\u0085\u2028\u202E\uD800 aZ1:'.split(''),
          ...[
            '<script>',
            '</script>',
            '<img src=x onerror=alert(1)>',
            '"><b>',
            '&lt;',
            '&#60;',
            '<!--',
            ']]>',
          ],
          ...[
            'javascript:',
            'https://',
            '\r\nBcc: x@y',
            '</blockquote>',
            '</pre>',
            '</title>',
            '<a href="x">',
          ],
        ),
        { maxLength: 30 },
      )
      .map((parts) => parts.join('')),
  );
  const anyFacts = fc.record({
    supplier: text,
    connector: text,
    version: text,
    customerCode: fc.oneof(text, fc.constantFrom('TE1002', 'TE1234', 'CF1234')),
    commonName: text,
    serial: text,
    fingerprintSha256: text,
    notBefore: fc.date(),
    notAfter: fc.date(),
    dashboardUrl: fc.oneof(text, fc.constant(DASHBOARD), fc.webUrl()),
  });

  it('the HTML holds only our markup, and the subject is one line', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KINDS),
        anyFacts,
        fc.array(text, { minLength: 3, maxLength: 3 }),
        (kind, f, extra) => {
          const mail = kind.build(f, extra);
          const inspection = inspectHtml(mail.html);
          expect(inspection.problems).toEqual([]);
          expect(mail.html.toLowerCase()).not.toContain('<script');
          expect(inspection.text).not.toContain('<');
          for (const href of inspection.hrefs) expect(href).toMatch(/^https?:\/\//);
          // eslint-disable-next-line no-control-regex
          expect(mail.subject).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
          // eslint-disable-next-line no-control-regex
          expect(mail.text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('ordinary values appear in the subject, the text and the HTML', () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/);
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), word, word, (kind, connector, supplier) => {
        const mail = kind.build(facts({ connector, supplier }), []);
        expect(mail.subject).toContain(`${connector} (TE1234)`);
        expect(mail.text).toContain(connector);
        expect(mail.html).toContain(`>${connector}</code>`);
        expect(mail.text).toContain(`Hello ${supplier},`);
      }),
      { numRuns: 200 },
    );
  });
});
