import { approversFor } from '../core/approvers-config.ts';
import { classifyCustomerCode } from '../core/customer-code.ts';
import { parseTicketForm } from '../core/ticket-form.ts';
import { addApproval, addTicketUpdate, ticketUpdateId } from '../queue/enqueue.ts';
import {
  closeAs,
  LABELS,
  stateLabel,
  type ApprovalJob,
  type InstallationTicket,
  type TicketOperation,
} from '../queue/jobs.ts';
import { signedRequest } from '../services/signed-request.ts';
import {
  attachTicket,
  isRegisteredForSupplier,
  recordApprovalAsked,
  ticketSubject,
} from '../services/tickets.ts';
import { approvalRequestComment } from '../templates/approval-comments.ts';
import type { CommentKind } from '../templates/comment-marker.ts';
import { certificateFacts, renewedComment } from '../templates/decision-comments.ts';
import {
  authorNotRegisteredComment,
  brokenConfigComment,
  developmentCodeComment,
  needsConfigComment,
  needsInfoComment,
} from '../templates/intake-comments.ts';
import { dashboardUrl, type BotDeps, type LoadApprovers } from './bot-deps.ts';
import { findRequest } from './ticket-request.ts';

/** The parts of an issue the intake reads (from the webhook payload). */
export interface TicketIssue {
  body: string | null | undefined;
  labels: string[];
  state: 'open' | 'closed' | string;
  author: { login: string; id: number };
}

export type IntakeOutcome =
  | 'not_a_request'
  | 'closed'
  | 'needs_info'
  | 'author_not_registered'
  | 'development_code'
  | 'needs_config'
  | 'asked'
  | 'renewed';

/** Whether an issue is a certificate approval request (product.md, "The ticket"). */
export function isCertificateTicket(issue: Pick<TicketIssue, 'body' | 'labels'>): boolean {
  if (issue.labels.some((l) => l.toLowerCase() === LABELS.request)) return true;
  return parseTicketForm(issue.body).isCertificateRequest;
}

/**
 * Checks a ticket and hands what follows to the queues: a reply listing every problem, or the
 * approvers asked (a comment and an `approvals` job), or a renewal signed at once. Runs on
 * every opened, edited or labelled event; all it adds is keyed so that running it again for an
 * unchanged ticket adds nothing.
 */
export async function takeInTicket(
  deps: BotDeps,
  ticket: InstallationTicket,
  issue: TicketIssue,
  loadApprovers: LoadApprovers,
  deliveryId: string,
): Promise<IntakeOutcome> {
  if (!isCertificateTicket(issue)) return 'not_a_request';
  if (issue.state !== 'open') return 'closed';
  const reply = replier(deps, ticket);
  const form = parseTicketForm(issue.body);
  const problems = form.problems.map((p) => p.message);
  const { connector, version, customerCode, csr, details } = form.fields;
  const kind = customerCode === undefined ? undefined : classifyCustomerCode(customerCode);
  if (kind && !kind.ok) problems.push(kind.message);
  if (kind?.ok && kind.kind === 'development' && connector && version) {
    const body = developmentCodeComment({
      issueNumber: ticket.number,
      customerCode: kind.code,
      dashboardUrl: dashboardUrl(deps.publicUrl, connector, version),
    });
    await reply('development-code', ticket.number, body, [], { edit: true });
    return 'development_code';
  }
  if (!connector || !version || !customerCode || problems.length > 0) {
    await needsInfo(reply, ticket, problems);
    return 'needs_info';
  }

  const subject = await ticketSubject(deps.services, { technicalName: connector, version, customerCode });
  if ('missing' in subject) {
    const message =
      subject.missing === 'connector'
        ? `there is no connector with the technical name "${connector}"; check the name in the dashboard`
        : `connector ${connector} has no version "${version}"; check the version in the dashboard`;
    await needsInfo(reply, ticket, [message]);
    return 'needs_info';
  }
  if (subject.version.state !== 'approved') {
    await needsInfo(reply, ticket, [
      `version ${version} of ${connector} is not approved by Nedap yet; staging and production ` +
        'certificates are only issued for an approved version: ask Nedap to review it first',
    ]);
    return 'needs_info';
  }
  if (!(await isRegisteredForSupplier(deps.services, subject.supplier.id, issue.author))) {
    const body = authorNotRegisteredComment({
      issueNumber: ticket.number,
      author: issue.author.login,
      supplier: subject.supplier.name,
    });
    await reply('author-not-registered', ticket.number, body, [stateLabel(LABELS.needsInfo, issue.labels)]);
    return 'author_not_registered';
  }

  const found = await findRequest(
    deps,
    ticket,
    subject,
    { connector, version, customerCode },
    csr,
    deliveryId,
  );
  if (!found.ok) {
    await needsInfo(reply, ticket, found.problems);
    return 'needs_info';
  }
  const request = found.request;
  await attachTicket(deps.services, request.id, ticket);
  const link = dashboardUrl(deps.publicUrl, connector, version);

  if (request.state === 'signed') {
    const { certificate, consent } = await signedRequest(deps.services, request);
    const body = renewedComment({
      requestId: request.id,
      ...certificateFacts(certificate),
      dashboardUrl: link,
      consent,
    });
    await reply('renewed', request.id, body, [closeAs(LABELS.approved, 'completed')]);
    return 'renewed';
  }

  const approvers = await loadApprovers();
  if (!approvers.ok) {
    deps.log.warn({ problems: approvers.problems }, 'the approvers file cannot be used; told on the ticket');
    const body = brokenConfigComment({ issueNumber: ticket.number, problems: approvers.problems });
    await reply('broken-config', ticket.number, body, [stateLabel(LABELS.needsConfig, issue.labels)], {
      edit: true,
    });
    return 'needs_config';
  }
  const ofCode = approversFor(approvers.config, customerCode);
  if (!ofCode) {
    const body = needsConfigComment({ issueNumber: ticket.number, customerCode });
    await reply('needs-config', ticket.number, body, [stateLabel(LABELS.needsConfig, issue.labels)], {
      edit: true,
    });
    return 'needs_config';
  }
  const body = approvalRequestComment({
    requestId: request.id,
    supplier: subject.supplier.name,
    connector,
    version,
    customerCode,
    organisation: ofCode.organisation,
    csrSubject: request.subject ?? '',
    csrSha256: request.csrSha256 ?? '',
    details,
    approvers: ofCode,
    expireDays: approvers.config.expireDays,
    dashboardUrl: link,
  });
  await reply('approval-request', request.id, body, [stateLabel(LABELS.awaiting, issue.labels)]);
  const approval: ApprovalJob = {
    requestId: request.id,
    ticket,
    approvers: { users: ofCode.users, teams: ofCode.teams },
    reminderDays: approvers.config.reminderDays,
    expireDays: approvers.config.expireDays,
    askedAt: deps.services.now().getTime(),
    reminders: 0,
  };
  // Kept with the request first: should the job not reach Redis, or Redis lose it, it is put back.
  await recordApprovalAsked(deps.services, request.id, { ...approval });
  await addApproval(deps.queues, approval, deps.dayMs, approval.askedAt);
  return 'asked';
}

type Reply = (
  kind: CommentKind,
  key: string | number,
  body: string,
  after: TicketOperation[],
  options?: { edit?: boolean },
) => Promise<void>;

/** Queues a comment (and what follows it) on the ticket, keyed by the comment. */
function replier(deps: BotDeps, ticket: InstallationTicket): Reply {
  return async (kind, key, body, after, options = {}) => {
    const edit = options.edit === true;
    await addTicketUpdate(deps.queues, ticketUpdateId(kind, key, edit ? body : undefined), {
      ticket,
      operations: [{ op: 'comment', kind, key: String(key), body, edit }, ...after],
      receivedAt: Date.now(),
    });
  };
}

async function needsInfo(reply: Reply, ticket: InstallationTicket, problems: string[]): Promise<void> {
  const body = needsInfoComment({ issueNumber: ticket.number, problems });
  // One status comment per ticket, edited when the problems change.
  await reply('needs-info', ticket.number, body, [{ op: 'labels', add: [LABELS.needsInfo], remove: [] }], {
    edit: true,
  });
}
