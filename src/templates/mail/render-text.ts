import type { Block, Inline } from './blocks.ts';
import { cleanText, oneLine, safeHref, VALUE_MAX } from './mail-text.ts';

/** A mail as plain text, and its subject line. */

/** How long one value may be in the subject. */
const SUBJECT_VALUE_MAX = 80;

/**
 * A subject line: one line whatever the values held (no CR, LF or other control character can
 * reach the header), blanks collapsed.
 */
export function subjectLine(parts: Inline[]): string {
  const text = parts.map((part) => inlineText(part, SUBJECT_VALUE_MAX)).join('');
  return oneLine(text, 1_000).replace(/\s+/g, ' ').trim();
}

function inlineText(part: Inline, max = VALUE_MAX): string {
  if ('ours' in part) return part.ours;
  if ('value' in part) return oneLine(part.value, max);
  if ('code' in part) return oneLine(part.code, max);
  const href = safeHref(part.link);
  if (href === undefined) return part.words;
  return part.words === href ? href : `${part.words} <${href}>`;
}

/** The plain-text body: one paragraph per block, quotes with `>`, code indented. */
export function renderText(blocks: Block[]): string {
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
