import { describe, expect, it } from 'vitest';
import { isGitHubLogin, isGitHubTeam } from '../../src/core/github-names.ts';

describe('GitHub logins and teams', () => {
  it.each([
    'alice',
    'Bob-2',
    '7up',
    'a'.repeat(39),
    // A managed user of GitHub Enterprise Cloud: the enterprise's short code after an underscore.
    'mona-cat_acme',
    'mona_2abvd19d',
    `${'a'.repeat(34)}_acme`,
    // Older github.com accounts: a dash at the end, two in a row.
    'old-account-',
    'two--dashes',
  ])('takes %s as a login', (login) => {
    expect(isGitHubLogin(login)).toBe(true);
  });

  it.each([
    '',
    'a'.repeat(40),
    `${'a'.repeat(35)}_acme`,
    '-alice',
    '_acme',
    'alice_',
    'a_b_c',
    'alice_ac-me',
    'al ice',
    'alice@example.com',
    '@alice',
    'nedap/security',
    'alice\n',
  ])('refuses %j as a login', (text) => {
    expect(isGitHubLogin(text)).toBe(false);
  });

  it.each(['zorggroep-oost/certificate-approvers', 'nedap/pki_team', 'Org/Team'])(
    'takes %s as a team',
    (team) => {
      expect(isGitHubTeam(team)).toBe(true);
    },
  );

  it.each(['alice', 'o/t/s', '-o/t', '/t', 'o/', 'o/t t', `${'o'.repeat(40)}/t`])(
    'refuses %j as a team',
    (text) => {
      expect(isGitHubTeam(text)).toBe(false);
    },
  );
});
