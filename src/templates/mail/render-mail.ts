import { paragraph, type Block, type Inline, type Mail } from './blocks.ts';
import { oneLine } from './mail-text.ts';
import { renderHtml } from './render-html.ts';
import { renderText, subjectLine } from './render-text.ts';

/** A whole mail: the greeting and the footer around its body, rendered as text and as HTML. */

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
