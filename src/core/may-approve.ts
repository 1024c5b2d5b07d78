/** A team as GitHub names it: organisation login and team slug (any case). */
export interface TeamRef {
  org: string;
  slug: string;
}

/** Why a comment's author may not `/approve` or `/reject`, in the order they are checked. */
export type RefusalReason =
  'not_new_comment' | 'bot' | 'ticket_author' | 'supplier_login' | 'no_approvers' | 'not_an_approver';

export interface MayDecideInput {
  /** The comment's author, as the webhook gives it. */
  commenter: { login: string; id: number; type: 'User' | 'Bot' | 'Organization' | string };
  ticketAuthor: { login: string; id: number };
  /** The GitHub logins registered for the connector's supplier, any case. */
  supplierLogins: string[];
  /** The approvers of the ticket's customer code; `undefined` when no organisation lists it. */
  approvers: { users: string[]; teams: TeamRef[] } | undefined;
  /** The teams among `approvers.teams` that GitHub says the commenter belongs to, asked at comment time. */
  memberOfTeams: TeamRef[];
  /** The webhook's action for the comment. */
  commentAction: 'created' | 'edited' | 'deleted';
}

export type MayDecideResult = { ok: true } | { ok: false; reason: RefusalReason; message: string };

/**
 * The replies name nobody: the caller mentions the commenter in front of them, and naming the
 * author, the supplier's people or the approvers would mention or expose them.
 */
const MESSAGES: Record<RefusalReason, string> = {
  not_new_comment:
    'Commands in edited or deleted comments are ignored; please post the command as a new comment.',
  bot: 'Commands from bots and apps are ignored; an approver has to decide in person.',
  ticket_author:
    'You opened this request, so you cannot approve or reject it yourself; another approver of this ' +
    'customer code has to decide.',
  supplier_login:
    "You are registered for the connector's supplier, so you cannot approve or reject its request; an " +
    'approver of the healthcare organisation has to decide.',
  no_approvers:
    'Nobody can approve or reject this request yet: no organisation lists its customer code, and Nedap ' +
    'support has to add it first.',
  not_an_approver:
    'Sorry, only the approvers of this customer code can approve or reject this request. If you should be ' +
    'one, please ask Nedap support to add you.',
};

/**
 * Decides whether a comment's author may `/approve` or `/reject` the request (product.md, "The
 * ticket"). Pure: team membership is looked up by the caller at comment time and handed in.
 * The checks run in the order of `RefusalReason`, so that the reply names the most basic
 * reason: an approver who opened the ticket is told they are its author, not that they may
 * approve. `not_new_comment` and `bot` are best answered with silence (a reply to a bot may
 * start a conversation between bots).
 */
export function mayDecide(input: MayDecideInput): MayDecideResult {
  const { commenter } = input;
  const login = normaliseLogin(commenter.login);
  if (input.commentAction !== 'created') return refuse('not_new_comment');
  if (commenter.type === 'Bot' || login.endsWith('[bot]')) return refuse('bot');
  if (commenter.id === input.ticketAuthor.id || login === normaliseLogin(input.ticketAuthor.login))
    return refuse('ticket_author');
  if (input.supplierLogins.some((s) => normaliseLogin(s) === login)) return refuse('supplier_login');
  if (input.approvers === undefined) return refuse('no_approvers');
  if (input.approvers.users.some((u) => normaliseLogin(u) === login)) return { ok: true };
  // Membership counts only for teams the file lists: the caller's answer is not trusted to be narrow.
  const listed = new Set(input.approvers.teams.map(teamKey));
  if (input.memberOfTeams.some((t) => listed.has(teamKey(t)))) return { ok: true };
  return refuse('not_an_approver');
}

function refuse(reason: RefusalReason): MayDecideResult {
  return { ok: false, reason, message: MESSAGES[reason] };
}

/** GitHub logins are case-insensitive; the approvers file may write them with `@`. */
function normaliseLogin(login: string): string {
  return login.trim().replace(/^@/, '').toLowerCase();
}

function teamKey(team: TeamRef): string {
  return `${normaliseLogin(team.org)}/${team.slug.trim().toLowerCase()}`;
}
