import type { ApplicationFunction, Context } from 'probot';
import {
  APPROVERS_FILE,
  parseApproversConfig,
  type ApproversConfigResult,
} from '../core/approvers-config.ts';
import { parseCommand } from '../core/command.ts';
import { retryOnDatabaseOutage } from '../services/database-outage.ts';
import { claimComment, claimDelivery, releaseComment, releaseDelivery } from '../services/tickets.ts';
import type { BotDeps } from './bot-deps.ts';
import { handleComment, type TeamMembership } from './commands.ts';
import { takeInTicket, type TicketIssue } from './intake.ts';
import type { InstallationTicket } from '../queue/jobs.ts';

export interface BotOptions extends BotDeps {
  /** Counts each delivery by event and outcome (for /metrics). */
  countDelivery?: (event: string, outcome: string) => void;
}

type IssueEvent = Context<'issues.opened' | 'issues.edited' | 'issues.labeled' | 'issue_comment.created'>;

/**
 * The Probot app: webhook payloads in, service calls and queued work out. The handlers only
 * parse, check and enqueue, so that GitHub gets its answer fast; a delivery seen before
 * (X-GitHub-Delivery), or a command comment seen before under another delivery, has no second
 * effect.
 */
export function botApp(deps: BotOptions): ApplicationFunction {
  return (app) => {
    app.on(['issues.opened', 'issues.edited', 'issues.labeled'], async (context) => {
      await once(deps, context, undefined, async () => {
        if (context.payload.action === 'labeled' && context.payload.label?.name !== 'certificate-approval')
          return 'other_label';
        return takeInTicket(
          deps,
          ticketOf(context),
          issueOf(context),
          () => loadApprovers(context),
          context.id,
        );
      });
    });
    app.on('issue_comment.created', async (context) => {
      const { comment } = context.payload;
      // Only a comment with a command can act, so only those are claimed by their id: a remark
      // replayed does nothing anyway, and the table does not fill with every remark on a ticket.
      const commentId = parseCommand(comment.body).kind === 'none' ? undefined : comment.id;
      await once(deps, context, commentId, async () => {
        if (context.payload.issue.pull_request) return 'pull_request';
        // A deleted ("ghost") account has no user: it cannot decide anything.
        if (!comment.user) return 'no_author';
        return handleComment(
          deps,
          ticketOf(context),
          issueOf(context),
          {
            id: comment.id,
            body: comment.body,
            author: { login: comment.user.login, id: comment.user.id, type: comment.user.type ?? 'User' },
            action: 'created',
            createdAt: comment.created_at,
          },
          () => loadApprovers(context),
          teamMembership(context),
          context.id,
        );
      });
    });
  };
}

/**
 * Handles a delivery at most once, by its id (X-GitHub-Delivery), and a comment with a command at
 * most once, by GitHub's comment id, whatever delivery brings it: the same signed body replayed
 * under a new delivery id is answered 200 and has no second effect. Both claims are given back
 * when handling fails, so that GitHub's redelivery is handled.
 */
async function once(
  deps: BotOptions,
  context: IssueEvent,
  commentId: number | undefined,
  work: () => Promise<string>,
): Promise<void> {
  const event = `${context.name}.${context.payload.action}`;
  const log = deps.log.child({ delivery: context.id, event });
  // After a database restart the pool's idle connections are dead: a few tries on new ones
  // spare the approver a delivery that GitHub would not send again by itself.
  const retrying = (error: unknown, delayMs?: number) =>
    log.warn({ err: error, delayMs }, 'a database connection failed; trying again on a new one');
  const failed = (error: unknown): never => {
    log.error({ err: error }, 'webhook handling failed; GitHub can redeliver it');
    deps.countDelivery?.(event, 'error');
    // GitHub shows the answer to the app's owners: the reason stays in our log.
    throw new Error(`handling delivery ${context.id} failed; the service's log has the reason`);
  };
  let claimed = false;
  try {
    claimed = await claimDelivery(deps.services, context.id, event, retrying);
  } catch (error) {
    failed(error);
  }
  if (!claimed) {
    log.info('delivery seen before; ignored');
    deps.countDelivery?.(event, 'duplicate');
    return;
  }
  const giveBack = async (comment: boolean) => {
    await releaseDelivery(deps.services, context.id).catch(() => undefined);
    if (comment && commentId !== undefined)
      await releaseComment(deps.services, commentId, context.id).catch(() => undefined);
  };
  if (commentId !== undefined) {
    let ours = false;
    try {
      ours = await claimComment(deps.services, commentId, context.id, retrying);
    } catch (error) {
      await giveBack(false);
      failed(error);
    }
    if (!ours) {
      log.info({ commentId }, 'comment handled before, from another delivery; ignored');
      deps.countDelivery?.(event, 'duplicate_comment');
      return;
    }
  }
  try {
    // Handling may run twice: what it queues has ids of its own, its comments markers.
    const outcome = await retryOnDatabaseOutage(work, retrying);
    log.info({ outcome }, 'webhook handled');
    deps.countDelivery?.(event, outcome);
  } catch (error) {
    // Give the delivery and the comment back, so that GitHub's redelivery (or a manual one) is handled.
    await giveBack(true);
    failed(error);
  }
}

function ticketOf(context: IssueEvent): InstallationTicket {
  const { repository, issue, installation } = context.payload;
  if (!installation) throw new Error('the delivery names no app installation');
  return {
    installationId: installation.id,
    owner: repository.owner.login,
    repo: repository.name,
    number: issue.number,
  };
}

function issueOf(context: IssueEvent): TicketIssue {
  const { issue } = context.payload;
  return {
    body: issue.body,
    labels: (issue.labels ?? []).map((l) => (typeof l === 'string' ? l : (l.name ?? ''))),
    state: issue.state ?? 'open',
    author: { login: issue.user?.login ?? 'ghost', id: issue.user?.id ?? 0 },
  };
}

/** The approvers file of the ticket's repository, or of the organisation's `.github` repository. */
async function loadApprovers(context: IssueEvent): Promise<ApproversConfigResult> {
  const name = APPROVERS_FILE.replace(/^\.github\//, '');
  try {
    return parseApproversConfig(await context.config(name));
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status !== undefined && status >= 500) throw error;
    // The YAML parser's own words (line and column) are in the cause.
    const cause = (error as { cause?: unknown }).cause;
    const said = String((cause instanceof Error ? cause : (error as Error)).message ?? error).split('\n')[0];
    return { ok: false, problems: [`the file ${APPROVERS_FILE} is not valid YAML: ${said}`] };
  }
}

function teamMembership(context: IssueEvent): TeamMembership {
  return async (team, login) => {
    try {
      const { data } = await context.octokit.rest.teams.getMembershipForUserInOrg({
        org: team.org,
        team_slug: team.slug,
        username: login,
      });
      return data.state === 'active';
    } catch (error) {
      if ((error as { status?: number }).status === 404) return false;
      throw error;
    }
  };
}
