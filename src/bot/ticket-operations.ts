import type { ProbotOctokit } from 'probot';
import { withStateLabel, type InstallationTicket, type TicketOperation } from '../queue/jobs.ts';
import { findMarker } from '../templates/comment-marker.ts';

export type InstallationOctokit = ProbotOctokit;

/** An Octokit authenticated as the app's installation (Probot's `auth(installationId)`). */
export type OctokitForInstallation = (installationId: number) => Promise<InstallationOctokit>;

export interface OperationContext {
  octokit: InstallationOctokit;
  ticket: InstallationTicket;
  /** The app's id: only comments the app itself made count as its earlier comments. */
  appId: number;
  /**
   * True when this operation may already have been carried out (a retry or a restarted job), so
   * a comment is looked for before it is posted; false spares that call on the first attempt.
   */
  mayHaveRun: boolean;
}

/** Carries out one ticket operation; each is harmless to repeat. Errors are Octokit's. */
export async function runOperation(context: OperationContext, operation: TicketOperation): Promise<void> {
  const { octokit, ticket } = context;
  const issue = { owner: ticket.owner, repo: ticket.repo, issue_number: ticket.number };
  switch (operation.op) {
    case 'comment': {
      const existing =
        operation.edit || context.mayHaveRun
          ? await findOwnComment(context, operation.kind, operation.key)
          : undefined;
      if (!existing) {
        await octokit.rest.issues.createComment({ ...issue, body: operation.body });
      } else if (operation.edit && existing.body !== operation.body) {
        await octokit.rest.issues.updateComment({
          ...repoOf(ticket),
          comment_id: existing.id,
          body: operation.body,
        });
      }
      return;
    }
    case 'labels':
      if (operation.add.length > 0) await octokit.rest.issues.addLabels({ ...issue, labels: operation.add });
      for (const name of operation.remove) {
        try {
          await octokit.rest.issues.removeLabel({ ...issue, name });
        } catch (error) {
          // Already gone: what we wanted.
          if ((error as { status?: number }).status !== 404) throw error;
        }
      }
      return;
    case 'state': {
      // Read once at the time of writing, not from the payload of the event that queued this:
      // labels set since then are kept.
      const { data } = await octokit.rest.issues.get(issue);
      const current = data.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean);
      const labels = withStateLabel(current, operation.label);
      const close = operation.close;
      const closed = !close || (data.state === 'closed' && data.state_reason === close);
      // Nothing to write: a retry after a PATCH whose answer was lost, or a redelivered job.
      if (closed && sameSet(current, labels)) return;
      await octokit.rest.issues.update({
        ...issue,
        labels,
        ...(close ? { state: 'closed' as const, state_reason: close } : {}),
      });
      return;
    }
    case 'close':
      await octokit.rest.issues.update({ ...issue, state: 'closed', state_reason: operation.reason });
      return;
    case 'react':
      // GitHub answers 200 instead of 201 when the reaction is already there.
      await octokit.rest.reactions.createForIssueComment({
        ...repoOf(ticket),
        comment_id: operation.commentId,
        content: operation.content,
      });
      return;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function repoOf(ticket: InstallationTicket): { owner: string; repo: string } {
  return { owner: ticket.owner, repo: ticket.repo };
}

/**
 * The app's own comment with this marker, if any. Someone else's comment with the same marker
 * (typed or quoted by a person) never counts, so it cannot silence the bot.
 */
async function findOwnComment(
  context: OperationContext,
  kind: string,
  key: string,
): Promise<{ id: number; body: string } | undefined> {
  const { octokit, ticket } = context;
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    ...repoOf(ticket),
    issue_number: ticket.number,
    per_page: 100,
  });
  for (const comment of comments) {
    if (comment.performed_via_github_app?.id !== context.appId) continue;
    const marker = findMarker(comment.body);
    if (marker?.kind === kind && marker.key === key) return { id: comment.id, body: comment.body ?? '' };
  }
  return undefined;
}
