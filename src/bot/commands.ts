import { approversFor, type ApproverTeam } from '../core/approvers-config.ts';
import { parseCommand } from '../core/command.ts';
import { writtenBeforeRequest } from '../core/comment-time.ts';
import { parseTicketForm } from '../core/ticket-form.ts';
import { mayDecide, type MayDecideInput } from '../core/may-approve.ts';
import { addSigning, addTicketUpdate, promoteApproval, ticketUpdateId } from '../queue/enqueue.ts';
import { closeAs, LABELS, type InstallationTicket } from '../queue/jobs.ts';
import { rejectRequest } from '../services/decide-request.ts';
import { requestForCommand } from '../services/tickets.ts';
import {
  csrChangedComment,
  refusalReply,
  rejectedComment,
  unknownCommandReply,
  writtenBeforeReply,
} from '../templates/decision-comments.ts';
import type { BotDeps, LoadApprovers } from './bot-deps.ts';
import { isCertificateTicket, takeInTicket, type TicketIssue } from './intake.ts';

/** A new comment on a ticket, from the webhook payload. */
export interface TicketComment {
  id: number;
  body: string | null | undefined;
  author: { login: string; id: number; type: string };
  action: 'created' | 'edited' | 'deleted';
  /** GitHub's `created_at` of the comment (ISO 8601, whole seconds). */
  createdAt: string | undefined;
}

export type CommandOutcome =
  | 'no_command'
  | 'ignored'
  | 'unknown_command'
  | 'refused'
  | 'written_before_request'
  | 'not_waiting'
  | 'approved'
  | 'rejected'
  | 'asked_again';

/** Asks GitHub whether a user is an active member of a team, at the time of the comment. */
export type TeamMembership = (team: ApproverTeam, login: string) => Promise<boolean>;

/**
 * Reads `/approve` or `/reject <reason>` in a new comment, checks who wrote it (product.md,
 * "The ticket"), and hands the decision to the queues: the signing of an approval, or the
 * rejection's reply. Anything refused gets one short reply (none for bots and edits).
 */
export async function handleComment(
  deps: BotDeps,
  ticket: InstallationTicket,
  issue: TicketIssue,
  comment: TicketComment,
  loadApprovers: LoadApprovers,
  isTeamMember: TeamMembership,
  deliveryId: string,
): Promise<CommandOutcome> {
  const command = parseCommand(comment.body);
  if (command.kind === 'none' || !isCertificateTicket(issue)) return 'no_command';
  const bot = comment.author.type === 'Bot' || comment.author.login.endsWith('[bot]');
  // A reply to a bot may start a conversation between bots; an edit is not a new decision.
  if (bot || comment.action !== 'created') return 'ignored';
  const replyKey = comment.id;
  const reply = async (kind: 'refusal' | 'unknown-command', body: string) =>
    addTicketUpdate(deps.queues, ticketUpdateId(kind, replyKey), {
      ticket,
      operations: [{ op: 'comment', kind, key: String(replyKey), body }],
      receivedAt: Date.now(),
    });
  /** One short reply saying why nothing was done, in the reply's own words. */
  const refuse = (message: string) =>
    reply(
      'refusal',
      refusalReply({
        commentId: comment.id,
        commenter: comment.author.login,
        reason: 'not_an_approver',
        message,
      }),
    );
  if (command.kind === 'unknown') {
    await reply(
      'unknown-command',
      unknownCommandReply({ commentId: comment.id, commenter: comment.author.login, word: command.word }),
    );
    return 'unknown_command';
  }

  const found = await requestForCommand(deps.services, ticket);
  const request = found?.request;
  if (issue.state === 'open' && request?.state === 'superseded' && !parseTicketForm(issue.body).fields.csr) {
    // A newer CSR was uploaded on the line in the dashboard: the approval binds to the CSR shown,
    // so the approvers are asked again for the new one rather than approving either.
    await addTicketUpdate(deps.queues, ticketUpdateId('csr-changed', request.id), {
      ticket,
      operations: [
        {
          op: 'comment',
          kind: 'csr-changed',
          key: request.id,
          body: csrChangedComment({ requestId: request.id }),
        },
      ],
      receivedAt: Date.now(),
    });
    const outcome = await takeInTicket(deps, ticket, issue, loadApprovers, deliveryId);
    return outcome === 'asked' ? 'asked_again' : 'not_waiting';
  }
  if (issue.state !== 'open' || !found || !request || request.state !== 'awaiting_approval') {
    const why =
      issue.state !== 'open'
        ? 'This ticket is closed, so commands on it are not read.'
        : request
          ? `The request of this ticket is ${request.state.replace('_', ' ')}, so there is nothing to decide any more.`
          : 'This ticket has no request waiting for a decision (yet): the bot asks the approvers in a comment once the ticket is complete.';
    await refuse(why);
    return 'not_waiting';
  }
  // An old comment (replayed under a new delivery id, or delivered late) cannot decide a request
  // made after it: after a rejection or a CSR change that would approve a CSR nobody was shown.
  if (writtenBeforeRequest(comment.createdAt, request.createdAt)) {
    await reply(
      'refusal',
      writtenBeforeReply({
        commentId: comment.id,
        commenter: comment.author.login,
        requestCreatedAt: request.createdAt,
      }),
    );
    return 'written_before_request';
  }

  const approvers = await loadApprovers();
  const ofCode = approvers.ok ? approversFor(approvers.config, found.customerCode) : undefined;
  const input: MayDecideInput = {
    commenter: comment.author,
    ticketAuthor: issue.author,
    supplierLogins: found.supplierLogins,
    approvers: ofCode,
    memberOfTeams: [],
    commentAction: comment.action,
  };
  let verdict = mayDecide(input);
  // Team membership is asked from GitHub only when it decides: at the time of the comment.
  if (!verdict.ok && verdict.reason === 'not_an_approver' && ofCode && ofCode.teams.length > 0) {
    const memberOfTeams: ApproverTeam[] = [];
    for (const team of ofCode.teams) {
      if (await isTeamMember(team, comment.author.login)) memberOfTeams.push(team);
    }
    verdict = mayDecide({ ...input, memberOfTeams });
  }
  if (!verdict.ok) {
    await reply(
      'refusal',
      refusalReply({
        commentId: comment.id,
        commenter: comment.author.login,
        reason: verdict.reason,
        message: verdict.message,
      }),
    );
    return 'refused';
  }

  const approver = { login: comment.author.login, id: comment.author.id };
  if (command.kind === 'approve') {
    await addSigning(deps.queues, {
      requestId: request.id,
      ticket,
      approver,
      commentId: comment.id,
      csrSha256: request.csrSha256 ?? '',
      deliveryId,
      receivedAt: Date.now(),
    });
    return 'approved';
  }

  const rejected = await rejectRequest(
    deps.services,
    { kind: 'approver', login: approver.login, githubId: approver.id },
    request.id,
    command.reason,
    { ticket: request.ticket ?? undefined, deliveryId, commentId: comment.id },
  );
  if (!rejected.ok) {
    await refuse(rejected.failures.map((f) => f.message).join('; '));
    return 'refused';
  }
  await addTicketUpdate(deps.queues, ticketUpdateId('rejected', request.id), {
    ticket,
    operations: [
      {
        op: 'comment',
        kind: 'rejected',
        key: request.id,
        body: rejectedComment({ requestId: request.id, approver: approver.login, reason: command.reason }),
      },
      // No reaction on the /reject: the comment answers it; label and closing are one write.
      closeAs(LABELS.rejected, 'not_planned'),
    ],
    receivedAt: Date.now(),
  });
  await promoteApproval(deps.queues, request.id);
  return 'rejected';
}
