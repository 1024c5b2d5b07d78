import { classifyCustomerCode } from '../../core/customer-code.ts';
import { formatUtc, plural, shorten } from '../text.ts';

/**
 * The building blocks of the e-mails to suppliers (product.md, flows 4 and 5; the mails per kind
 * are in the other files of this folder). A mail is written once, as blocks of our own words and
 * other people's values, and rendered twice: as plain text and as a small HTML document.
 *
 * What someone else wrote (a supplier's name, a connector, a reason) is never markup: in the HTML
 * every character of text, ours included, is escaped, so the only tags are the renderer's own; in
 * the subject, line breaks and control characters become spaces, so a value cannot add a header.
 * A link is only a link when its URL is http(s); otherwise its words are shown without one.
 */

/** One e-mail, ready for a mailer: subject on one line, plain text, and an HTML alternative. */
export interface Mail {
  subject: string;
  text: string;
  html: string;
}

/** What the mails say about one issued certificate. */
export interface CertificateFacts {
  /** The supplier's name. */
  supplier: string;
  /** The connector's technical name. */
  connector: string;
  version: string;
  customerCode: string;
  commonName: string;
  serial: string;
  fingerprintSha256: string;
  notBefore: Date;
  notAfter: Date;
  /** The dashboard page of the connector version. */
  dashboardUrl: string;
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

/** How long someone else's values may be: one inline value, and quoted free text. */
const VALUE_MAX = 200;
const SUBJECT_VALUE_MAX = 80;
const QUOTE_MAX = 4_000;

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

/**
 * A subject line: one line whatever the values held (no CR, LF or other control character can
 * reach the header), blanks collapsed.
 */
export function subjectLine(parts: Inline[]): string {
  const text = parts.map((part) => inlineText(part, SUBJECT_VALUE_MAX)).join('');
  return oneLine(text, 1_000).replace(/\s+/g, ' ').trim();
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

/** A point in time as `2027-01-05 14:03 UTC`. */
export function formatMailDate(date: Date): string {
  return formatUtc(date).replace(/:\d\d UTC$/, ' UTC');
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole days from `now` until `then`, rounded down; NaN for an invalid date. */
export function wholeDaysLeft(then: Date, now: Date): number {
  return Math.floor((then.getTime() - now.getTime()) / DAY_MS);
}

/** `in 30 days`, `in 1 day`, `in less than a day`, or `soon` when a date is invalid. */
export function expiresIn(notAfter: Date, now: Date): string {
  const days = wholeDaysLeft(notAfter, now);
  if (!Number.isFinite(days)) return 'soon';
  return days < 1 ? 'in less than a day' : `in ${plural(days, 'day')}`;
}

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

/** A certificate's facts as label and value rows. */
export function certificateRows(facts: CertificateFacts): Block {
  return {
    kind: 'facts',
    rows: [
      ['Connector', [code(facts.connector)]],
      ['Version', [code(facts.version)]],
      ['Customer code', [code(facts.customerCode), { ours: environmentNote(facts.customerCode) }]],
      ['Common name (CN)', [code(facts.commonName)]],
      ['Serial number', [code(facts.serial)]],
      ['SHA-256 fingerprint', [code(facts.fingerprintSha256)]],
      ['Valid from', [{ ours: formatMailDate(facts.notBefore) }]],
      ['Valid until', [{ ours: formatMailDate(facts.notAfter) }]],
    ],
  };
}

/** ` (staging)` and the like, or nothing for a code that is none of the kinds. */
export function environmentNote(customerCode: string): string {
  const kind = classifyCustomerCode(customerCode.trim().toUpperCase());
  return kind.ok ? ` (${kind.kind})` : '';
}

/** Whether the customer code is Nedap's development environment. */
export function isDevelopment(customerCode: string): boolean {
  const kind = classifyCustomerCode(customerCode.trim().toUpperCase());
  return kind.ok && kind.kind === 'development';
}

// A CN the policy allows (`name-CODE-identification`) is safe to show inside a shell command.
const SHELL_SAFE = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * How to get a new certificate on the same line: a new key and CSR, uploaded in the dashboard,
 * signed without a ticket because of the earlier consent (or because it is development).
 */
export function renewalBlocks(facts: CertificateFacts): Block[] {
  const link = dashboard(facts.dashboardUrl);
  const why = isDevelopment(facts.customerCode)
    ? 'Development certificates need no approval, so the new CSR is signed automatically, without a ticket.'
    : 'The healthcare organisation has already given its consent for this connector and customer code, ' +
      'so the new CSR is signed automatically: no new ticket is needed.';
  const blocks: Block[] = [
    paragraph`To get a new certificate, create a new private key and a CSR for it, and upload the CSR on the same line (connector ${code(facts.connector)}, version ${code(facts.version)}, customer code ${code(facts.customerCode)}) in ${link}. Use a new key: a CSR with the key of an earlier certificate is refused. ${ours(why)} The new certificate can then be downloaded there right away.`,
  ];
  const cn = oneLine(facts.commonName);
  if (SHELL_SAFE.test(cn)) {
    blocks.push(
      paragraph`For example, with OpenSSL (replace each … with the value from your current certificate; OU, O, L, ST, C and emailAddress are all required):`,
      {
        kind: 'code',
        text:
          `openssl req -new -newkey rsa:4096 -nodes -keyout ${cn}.key -out ${cn}.csr ` +
          `-subj "/CN=${cn}/OU=…/O=…/L=…/ST=…/C=…/emailAddress=…"`,
      },
      paragraph`Keep the .key file secret on your own systems; only the .csr file is uploaded.`,
    );
  }
  return blocks;
}

/** Free text quoted, or a note that there was none. */
export function quoteOf(text: string): Block {
  const trimmed = text.trim();
  return trimmed === ''
    ? { kind: 'paragraph', parts: [{ ours: '(No reason was given.)' }] }
    : { kind: 'quote', text: shorten(trimmed, QUOTE_MAX) };
}

/** The mail's greeting, addressed to the supplier. */
export function greeting(supplier: string): Block {
  return oneLine(supplier).trim() === '' ? paragraph`Hello,` : paragraph`Hello ${supplier},`;
}

function footer(supplier: string): Block {
  return paragraph`You receive this e-mail as the contact address of ${supplier} for the Ons API. Questions? Contact Nedap support.`;
}

/** A mail from its subject and body blocks; a greeting goes first and a footer last. */
export function renderMail(supplier: string, subject: Inline[], body: Block[]): Mail {
  const blocks = [greeting(supplier), ...body, footer(supplier)];
  const line = subjectLine(subject);
  return { subject: line, text: renderText(blocks), html: renderHtml(line, blocks) };
}

function inlineText(part: Inline, max = VALUE_MAX): string {
  if ('ours' in part) return part.ours;
  if ('value' in part) return oneLine(part.value, max);
  if ('code' in part) return oneLine(part.code, max);
  const href = safeHref(part.link);
  if (href === undefined) return part.words;
  return part.words === href ? href : `${part.words} <${href}>`;
}

function renderText(blocks: Block[]): string {
  const out = blocks.map((block) => {
    switch (block.kind) {
      case 'paragraph':
        return block.parts.map((part) => inlineText(part)).join('');
      case 'facts':
        return block.rows
          .map(([label, value]) => `  ${label}: ${value.map((part) => inlineText(part)).join('')}`)
          .join('\n');
      case 'quote':
        return cleanText(block.text)
          .split('\n')
          .map((line) => (line.trim() === '' ? '>' : `> ${line}`))
          .join('\n');
      case 'code':
        return cleanText(block.text)
          .split('\n')
          .map((line) => `    ${line}`)
          .join('\n');
    }
  });
  return `${out.join('\n\n')}\n`;
}

const STYLE = {
  body: 'margin:0;padding:24px;background-color:#ffffff;color:#1f2328;font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;',
  main: 'max-width:640px;',
  p: 'margin:0 0 16px 0;',
  table: 'border-collapse:collapse;margin:0 0 16px 0;',
  th: 'text-align:left;vertical-align:top;font-weight:normal;color:#57606a;padding:2px 16px 2px 0;white-space:nowrap;',
  td: 'vertical-align:top;padding:2px 0;word-break:break-all;',
  quote: 'margin:0 0 16px 0;padding:8px 12px;border-left:4px solid #d0d7de;background-color:#f6f8fa;',
  pre: 'margin:0 0 16px 0;padding:8px 12px;background-color:#f6f8fa;font-family:Consolas,Menlo,monospace;font-size:13px;white-space:pre-wrap;word-break:break-all;',
  code: 'font-family:Consolas,Menlo,monospace;font-size:13px;',
  a: 'color:#0969da;',
} as const;

function inlineHtml(part: Inline): string {
  if ('ours' in part) return escapeHtml(part.ours);
  if ('value' in part) return escapeHtml(oneLine(part.value));
  if ('code' in part) return `<code style="${STYLE.code}">${escapeHtml(oneLine(part.code))}</code>`;
  const href = safeHref(part.link);
  if (href === undefined) return escapeHtml(part.words);
  return `<a href="${escapeHtml(href)}" style="${STYLE.a}">${escapeHtml(part.words)}</a>`;
}

function renderHtml(subject: string, blocks: Block[]): string {
  const body = blocks.map((block) => {
    switch (block.kind) {
      case 'paragraph':
        return `<p style="${STYLE.p}">${block.parts.map(inlineHtml).join('')}</p>`;
      case 'facts': {
        const rows = block.rows.map(
          ([label, value]) =>
            `<tr><th scope="row" style="${STYLE.th}">${escapeHtml(label)}</th>` +
            `<td style="${STYLE.td}">${value.map(inlineHtml).join('')}</td></tr>`,
        );
        return `<table role="presentation" style="${STYLE.table}">\n${rows.join('\n')}\n</table>`;
      }
      case 'quote': {
        const lines = cleanText(block.text).split('\n').map(escapeHtml);
        return `<blockquote style="${STYLE.quote}">${lines.join('<br>')}</blockquote>`;
      }
      case 'code':
        return `<pre style="${STYLE.pre}">${escapeHtml(cleanText(block.text))}</pre>`;
    }
  });
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title>`,
    '</head>',
    `<body style="${STYLE.body}">`,
    `<div style="${STYLE.main}">`,
    ...body,
    '</div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
