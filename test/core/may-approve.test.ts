import { describe, expect, it } from 'vitest';
import { mayDecide, type MayDecideInput, type RefusalReason } from '../../src/core/may-approve.ts';

const team = { org: 'zorggroep-oost', slug: 'certificate-approvers' };

/** Carol is a listed approver commenting on Sam's (the supplier's) ticket: allowed. */
function input(overrides: Partial<MayDecideInput> = {}): MayDecideInput {
  return {
    commenter: { login: 'carol', id: 3, type: 'User' },
    ticketAuthor: { login: 'sam-supplier', id: 1 },
    supplierLogins: ['sam-supplier', 'Sue-Supplier'],
    approvers: { users: ['alice', 'carol'], teams: [team] },
    memberOfTeams: [],
    commentAction: 'created',
    ...overrides,
  };
}

const user = (login: string, id = 9, type = 'User') => ({ commenter: { login, id, type } });

describe('who may /approve or /reject', () => {
  it.each<[string, Partial<MayDecideInput>]>([
    ['a listed user', {}],
    ['a listed user in another case', user('CAROL')],
    ['a listed user written with @ in the file', { approvers: { users: ['@Carol'], teams: [] } }],
    ['a member of a listed team', { ...user('dave'), memberOfTeams: [team] }],
    [
      'a member of a listed team, names in another case',
      { ...user('dave'), memberOfTeams: [{ org: 'Zorggroep-Oost', slug: 'Certificate-Approvers' }] },
    ],
    ['a listed user of type Organization (not a bot)', user('carol', 3, 'Organization')],
  ])('%s may decide', (_who, overrides) => {
    expect(mayDecide(input(overrides))).toEqual({ ok: true });
  });

  it.each<[string, Partial<MayDecideInput>, RefusalReason]>([
    ['an edited comment', { commentAction: 'edited' }, 'not_new_comment'],
    ['a deleted comment', { commentAction: 'deleted' }, 'not_new_comment'],
    ['a bot by type', user('carol', 3, 'Bot'), 'bot'],
    ['a bot by login', user('carol[bot]'), 'bot'],
    ['a bot by login in capitals', user('Renovate[BOT]'), 'bot'],
    ['the ticket author by id (renamed since)', user('carol', 1), 'ticket_author'],
    ['the ticket author by login, other case', user('Sam-Supplier', 77), 'ticket_author'],
    ['a supplier login, other case', user('sue-supplier'), 'supplier_login'],
    ['anyone, when no organisation lists the code', { approvers: undefined }, 'no_approvers'],
    ['someone not listed', user('mallory'), 'not_an_approver'],
    ['a prefix of a listed login', user('caro'), 'not_an_approver'],
    [
      'a member of an unlisted team',
      { ...user('dave'), memberOfTeams: [{ org: 'other', slug: 'x' }] },
      'not_an_approver',
    ],
    [
      'a member of a same-named team of another organisation',
      { ...user('dave'), memberOfTeams: [{ org: 'elsewhere', slug: team.slug }] },
      'not_an_approver',
    ],
  ])('%s is refused: %s', (_who, overrides, reason) => {
    const result = mayDecide(input(overrides));
    expect(result).toMatchObject({ ok: false, reason });
  });

  it.each<[string, Partial<MayDecideInput>, RefusalReason]>([
    ['an edit by a bot', { ...user('x[bot]', 9, 'Bot'), commentAction: 'edited' }, 'not_new_comment'],
    ['a bot that opened the ticket', { ...user('x[bot]', 1, 'Bot') }, 'bot'],
    [
      'a user approver who is also the author',
      { ...user('alice', 1), ticketAuthor: { login: 'alice', id: 1 } },
      'ticket_author',
    ],
    ['the author who is also registered for the supplier', user('sam-supplier', 1), 'ticket_author'],
    [
      'a user approver registered for the supplier',
      { ...user('alice'), supplierLogins: ['ALICE'] },
      'supplier_login',
    ],
    [
      'a team member registered for the supplier',
      { ...user('dave'), supplierLogins: ['dave'], memberOfTeams: [team] },
      'supplier_login',
    ],
    [
      'a supplier login, when no organisation lists the code',
      { ...user('sue-supplier'), approvers: undefined },
      'supplier_login',
    ],
  ])('checks in order: %s is %s', (_who, overrides, reason) => {
    expect(mayDecide(input(overrides))).toMatchObject({ ok: false, reason });
  });

  it('gives every refusal a short message that names no one', () => {
    const cases: Partial<MayDecideInput>[] = [
      { commentAction: 'edited' },
      user('carol[bot]'),
      user('sam-supplier', 1),
      user('sue-supplier'),
      { approvers: undefined },
      user('mallory'),
    ];
    const results = cases.map((c) => mayDecide(input(c)));
    const reasons = results.map((r) => (r.ok ? 'ok' : r.reason));
    expect(reasons).toEqual([
      'not_new_comment',
      'bot',
      'ticket_author',
      'supplier_login',
      'no_approvers',
      'not_an_approver',
    ]);
    for (const result of results) {
      if (result.ok) continue;
      expect(result.message.length).toBeLessThan(200);
      expect(result.message).not.toMatch(/@|carol|sam|sue|alice|mallory|zorggroep|\n/i);
    }
  });
});
