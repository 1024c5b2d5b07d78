/**
 * A GitHub login: letters, digits and dashes, up to 39 characters, starting with a letter or a
 * digit (older accounts may end in a dash or have two in a row). A managed user of GitHub
 * Enterprise Cloud carries its enterprise's short code after an underscore: `mona-cat_acme`.
 */
export const GITHUB_LOGIN = /^(?=[A-Za-z0-9_-]{1,39}$)[A-Za-z0-9][A-Za-z0-9-]*(?:_[A-Za-z0-9]+)?$/;

/** A team as `org/team-slug`: an organisation's login and the team's slug. */
export const GITHUB_TEAM = /^([A-Za-z0-9][A-Za-z0-9-]{0,38})\/([A-Za-z0-9_-]{1,100})$/;

/** Whether `text` (without a leading `@`) is a GitHub login. */
export function isGitHubLogin(text: string): boolean {
  return GITHUB_LOGIN.test(text);
}

/** Whether `text` (without a leading `@`) is a team written as `org/team-slug`. */
export function isGitHubTeam(text: string): boolean {
  return GITHUB_TEAM.test(text);
}
