import type { Block, Inline } from './blocks.ts';
import { cleanText, escapeHtml, oneLine, safeHref } from './mail-text.ts';

/** A mail as a small HTML document: inline styles only, every character of text escaped. */

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

/** The HTML document, titled with the subject. */
export function renderHtml(subject: string, blocks: Block[]): string {
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
