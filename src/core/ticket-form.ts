import { TECHNICAL_NAME } from './common-name.ts';
import { normaliseCustomerCode, printable } from './customer-code.ts';
import { closesFence, openFence, type Fence } from './code-fence.ts';

/**
 * The labels of the certificate approval issue form, in form order
 * (.github/ISSUE_TEMPLATE/certificate-approval.yml). GitHub renders each answer under a
 * `### <label>` heading, so these are what the parser looks for.
 */
export const TICKET_FORM_LABELS = ['Connector', 'Version', 'Customer code', 'CSR', 'Details'] as const;

export type TicketFormLabel = (typeof TICKET_FORM_LABELS)[number];
export type TicketFieldName = 'connector' | 'version' | 'customerCode' | 'csr' | 'details';

/** The answers found; a field is absent when it was left empty, `_No response_` or missing. */
export type TicketFields = Partial<Record<TicketFieldName, string>>;

export interface TicketProblem {
  field: TicketFieldName | 'body';
  message: string;
}

export interface TicketForm {
  /** The body carries the form's `### Connector` and `### Customer code` headings. */
  isCertificateRequest: boolean;
  fields: TicketFields;
  problems: TicketProblem[];
}

/** GitHub's own limit on an issue body; longer input is only read this far. */
export const MAX_TICKET_BODY_CHARS = 65_536;

const FIELD_OF: Record<TicketFormLabel, TicketFieldName> = {
  Connector: 'connector',
  Version: 'version',
  'Customer code': 'customerCode',
  CSR: 'csr',
  Details: 'details',
};
const LABEL_OF = new Map(TICKET_FORM_LABELS.map((label) => [FIELD_OF[label], label] as const));
const FIELD_BY_LOWER_LABEL = new Map(TICKET_FORM_LABELS.map((l) => [l.toLowerCase(), FIELD_OF[l]] as const));

const SINGLE_LINE_HINTS = {
  connector: "enter your connector's technical name, e.g. hr_integration",
  version: 'enter the connector version that Nedap approved, e.g. 1.0.0',
  customerCode: "enter the organisation's environment code, e.g. TE1234 (staging) or CF1234 (production)",
} as const;

/**
 * Reads the answers of the certificate approval form from an issue body. Never throws: every
 * problem a supplier has to fix is listed, also for bodies that are not a form at all (the
 * caller decides from `isCertificateRequest` or the label whether to reply).
 */
export function parseTicketForm(body: string | null | undefined): TicketForm {
  const problems: TicketProblem[] = [];
  let text = typeof body === 'string' ? body : '';
  if (text.length > MAX_TICKET_BODY_CHARS) {
    text = text.slice(0, MAX_TICKET_BODY_CHARS);
    problems.push({
      field: 'body',
      message: `the ticket text is longer than ${MAX_TICKET_BODY_CHARS} characters; only the start was read`,
    });
  }
  const sections = splitSections(text.split(/\r\n|\r|\n/), problems);
  const fields: TicketFields = {};
  for (const field of ['connector', 'version', 'customerCode'] as const) {
    const value = singleLine(field, sections, problems);
    if (value !== undefined) fields[field] = field === 'customerCode' ? normaliseCustomerCode(value) : value;
  }
  if (fields.connector !== undefined && !TECHNICAL_NAME.test(fields.connector)) {
    problems.push({
      field: 'connector',
      message:
        `the connector "${printable(fields.connector)}" must be its technical name: lower-case letters, ` +
        'digits and underscores (e.g. hr_integration)',
    });
  }
  const csr = answer(sections.get('csr'));
  // A fenced CSR loses its fence lines only: text around them stays, so that whatever else was
  // pasted (a private key, say) still reaches the CSR parser and is refused there.
  const pem = csr && trimBlankEdges(withoutFenceLines(csr));
  if (pem) fields.csr = pem.join('\n');
  const details = answer(sections.get('details'));
  if (details) fields.details = details.join('\n');
  const isCertificateRequest = sections.has('connector') && sections.has('customerCode');
  return { isCertificateRequest, fields, problems };
}

/** The lines under each known heading; a repeated heading is reported and its lines dropped. */
function splitSections(lines: string[], problems: TicketProblem[]): Map<TicketFieldName, string[]> {
  const sections = new Map<TicketFieldName, string[]>();
  const closable = closableFences(lines);
  const repeated = new Set<TicketFieldName>();
  let fence: Fence | undefined;
  let current: string[] | undefined; // undefined: text before the first heading, or a duplicate
  lines.forEach((raw, i) => {
    const line = raw.trimEnd();
    if (fence) {
      if (closesFence(fence, line)) fence = undefined;
    } else if (openFence(line) && closable[i]) {
      fence = openFence(line);
    } else {
      const field = knownHeading(line);
      if (field) {
        current = sections.has(field) ? undefined : [];
        if (current) sections.set(field, current);
        else if (!repeated.has(field)) {
          repeated.add(field);
          const message = `the "### ${LABEL_OF.get(field)}" heading appears more than once; the first is read`;
          problems.push({ field, message });
        }
        return;
      }
    }
    current?.push(line);
  });
  return sections;
}

function singleLine(
  field: keyof typeof SINGLE_LINE_HINTS,
  sections: Map<TicketFieldName, string[]>,
  problems: TicketProblem[],
): string | undefined {
  const label = LABEL_OF.get(field) ?? field;
  const values = (answer(sections.get(field)) ?? []).map((l) => l.trim()).filter((l) => l !== '');
  const [first] = values;
  if (first === undefined) {
    const message = sections.has(field)
      ? `${label} is empty: ${SINGLE_LINE_HINTS[field]}`
      : `the "### ${label}" heading is missing; put it back as the form has it and ${SINGLE_LINE_HINTS[field]}`;
    problems.push({ field, message });
    return undefined;
  }
  if (values.length > 1) {
    problems.push({
      field,
      message: `${label} must be one line but has ${values.length}; put the rest under Details`,
    });
  }
  return first;
}

/** The answer's lines without blank edges; undefined when empty or GitHub's `_No response_`. */
function answer(lines: string[] | undefined): string[] | undefined {
  const kept = trimBlankEdges(lines ?? []);
  if (!kept || (kept.length === 1 && kept[0]?.trim() === '_No response_')) return undefined;
  return kept;
}

function trimBlankEdges(lines: string[]): string[] | undefined {
  const start = lines.findIndex((l) => l.trim() !== '');
  if (start < 0) return undefined;
  const end = lines.findLastIndex((l) => l.trim() !== '');
  return lines.slice(start, end + 1);
}

/** A `###` heading naming one of the form's labels; any other heading is ordinary text. */
function knownHeading(line: string): TicketFieldName | undefined {
  const match = /^ {0,3}###[ \t]+(.*)$/s.exec(line);
  if (!match) return undefined;
  const text = match[1] ?? '';
  let end = text.length;
  // A loop, not /[\s#]+$/: that pattern backtracks quadratically on long runs of '#'.
  while (end > 0 && /[\s#]/.test(text[end - 1] ?? '')) end--;
  return FIELD_BY_LOWER_LABEL.get(text.slice(0, end).trim().replace(/\s+/g, ' ').toLowerCase());
}

/**
 * Whether a fence opened on each line is closed further down. A fence left open is read as
 * plain text, unlike CommonMark (which runs it to the end): a supplier who forgets the closing
 * ``` in the CSR field should not lose the fields after it. One backward pass keeps this linear.
 */
function closableFences(lines: string[]): boolean[] {
  const longestCloserBelow: Record<string, number> = { '`': 0, '~': 0 };
  const closable: boolean[] = new Array<boolean>(lines.length).fill(false);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trimEnd();
    const opened = openFence(line);
    if (!opened) continue;
    closable[i] = (longestCloserBelow[opened.char] ?? 0) >= opened.length;
    if (closesFence(opened, line)) {
      longestCloserBelow[opened.char] = Math.max(longestCloserBelow[opened.char] ?? 0, opened.length);
    }
  }
  return closable;
}

/** Drops the fence delimiter lines of the blocks in a value, keeping everything else. */
function withoutFenceLines(lines: string[]): string[] {
  let fence: Fence | undefined;
  return lines.filter((line) => {
    if (fence) {
      if (!closesFence(fence, line)) return true;
      fence = undefined;
      return false;
    }
    fence = openFence(line);
    return fence === undefined;
  });
}
