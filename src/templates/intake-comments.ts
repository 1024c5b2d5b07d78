import { APPROVERS_FILE } from '../core/approvers-config.ts';
import { DEVELOPMENT_CUSTOMER_CODE } from '../core/customer-code.ts';
import { withMarker } from './comment-marker.ts';
import { code, dashboardLink, plain } from './comment-text.ts';
import { inlineCode } from './markdown.ts';
import { plural, shorten } from './text.ts';

/**
 * What the bot answers a ticket it cannot ask approval for yet: the problems the supplier has to
 * fix, the development code (which needs no ticket), a customer code or approvers file Nedap
 * support has to fix, an author not registered for the supplier. Each is one status comment per
 * ticket, keyed by the issue number and edited when the ticket changes.
 */

/** Upper bounds on the problems listed in one comment. */
const PROBLEMS_MAX = 40;
const PROBLEM_MAX = 500;

/** One escaped list item per message, sentence-cased; more than `PROBLEMS_MAX` are counted. */
function problemList(problems: string[], format: (problem: string) => string): string {
  const shown = problems.slice(0, PROBLEMS_MAX).map((p) => `- ${format(shorten(p, PROBLEM_MAX))}`);
  const more = problems.length - PROBLEMS_MAX;
  if (more > 0) shown.push(`- …and ${plural(more, 'more problem')}.`);
  return shown.join('\n');
}

function sentence(problem: string): string {
  const text = problem.trim().replace(/^[a-z]/, (c) => c.toUpperCase());
  return plain(/[.!?…]$/.test(text) ? text : `${text}.`, PROBLEM_MAX + 1);
}

export interface NeedsInfoInput {
  issueNumber: number;
  /** The problems' messages, e.g. `TicketProblem.message`. */
  problems: string[];
}

/** Lists every problem with the ticket that the supplier has to fix. */
export function needsInfoComment(input: NeedsInfoInput): string {
  return withMarker('needs-info', input.issueNumber, [
    '## This ticket needs more information',
    'The bot cannot ask for approval yet, because of the following:',
    problemList(input.problems, sentence),
    "Please edit the ticket's description to fix these; the bot checks the ticket again after every " +
      'edit, so no new ticket is needed.',
  ]);
}

export interface DevelopmentCodeInput {
  issueNumber: number;
  customerCode: string;
  dashboardUrl: string;
}

/** The development code needs no ticket: its certificates are signed in the dashboard. */
export function developmentCodeComment(input: DevelopmentCodeInput): string {
  return withMarker('development-code', input.issueNumber, [
    `${code(input.customerCode)} is Nedap's development environment (${inlineCode(DEVELOPMENT_CUSTOMER_CODE)}). ` +
      'Development certificates need no approval and no ticket: upload the CSR on the ' +
      `${inlineCode(DEVELOPMENT_CUSTOMER_CODE)} line of your connector version in ` +
      `${dashboardLink(input.dashboardUrl)}; it is signed right away and the PEM file can be downloaded there.`,
    'Nothing else happens on this ticket. For a staging or production environment, open a ticket with ' +
      "that environment's customer code (e.g. TE1234 or CF1234).",
  ]);
}

export interface NeedsConfigInput {
  issueNumber: number;
  customerCode: string;
}

/** No organisation lists the customer code: Nedap support has to add it. */
export function needsConfigComment(input: NeedsConfigInput): string {
  return withMarker('needs-config', input.issueNumber, [
    `No healthcare organisation lists the customer code ${code(input.customerCode)} in ` +
      `${inlineCode(APPROVERS_FILE)}, so the bot does not know whom to ask for approval.`,
    "Nedap support: please add the code to the organisation's `customer_codes` in that file, on the " +
      'default branch, and then edit this ticket (any change) to have it checked again.',
    "Supplier: if the code is not the one the organisation gave you, correct the ticket's Customer " +
      'code; the bot checks the ticket again after every edit.',
  ]);
}

export interface BrokenConfigInput {
  issueNumber: number;
  /** From `parseApproversConfig`, each naming its place in the file. */
  problems: string[];
}

/** The approvers file cannot be used; names each problem for Nedap support. */
export function brokenConfigComment(input: BrokenConfigInput): string {
  return withMarker('broken-config', input.issueNumber, [
    `The approvers file ${inlineCode(APPROVERS_FILE)} has problems, so the bot cannot tell who may ` +
      'approve this request:',
    problemList(input.problems, configProblem),
    'Nedap support: please fix the file on the default branch, then edit this ticket (any change) to ' +
      'have it checked again. Nothing is needed from the supplier.',
  ]);
}

/** `organisations[1].name: must not be empty` shows its place as code. */
function configProblem(problem: string): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*(?:\[\d+\]|\.[A-Za-z0-9_]+)*): (.*)$/s.exec(problem);
  if (!match) return plain(problem, PROBLEM_MAX + 1);
  return `${code(match[1] ?? '')}: ${plain(match[2] ?? '', PROBLEM_MAX + 1)}`;
}

export interface AuthorNotRegisteredInput {
  issueNumber: number;
  /** The ticket author's GitHub login. */
  author: string;
  /** The name of the connector's supplier. */
  supplier: string;
}

/** The ticket's author may not ask on the supplier's behalf. */
export function authorNotRegisteredComment(input: AuthorNotRegisteredInput): string {
  return withMarker('author-not-registered', input.issueNumber, [
    `The GitHub account ${plain(input.author)}, which opened this ticket, is not registered for ` +
      `${plain(input.supplier)}, the supplier of this connector. Only a supplier's registered GitHub ` +
      "accounts can ask for its connectors' certificates, so that nobody can ask on a supplier's behalf.",
    "To fix this, ask your company's administrator for the dashboard or Nedap support to register " +
      'your GitHub login for the supplier, then edit this ticket (any change) to have it checked again. ' +
      'A colleague whose login is registered may also open the ticket instead.',
  ]);
}
