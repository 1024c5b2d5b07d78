import { describe, expect, it } from 'vitest';
import { approversFor, parseApproversConfig, type ApproversConfig } from '../../src/core/approvers-config.ts';

/** The example of product.md, "The ticket (support portal)", as a YAML parser returns it. */
const productExample = {
  organisations: [
    {
      name: 'Zorggroep Oost',
      customer_codes: ['TE1234', 'CF1234'],
      approvers: ['alice', '@zorggroep-oost/certificate-approvers'],
    },
  ],
  reminder_days: 3,
  expire_days: 30,
};

const organisation = (overrides: Record<string, unknown> = {}) => ({
  name: 'Zorggroep Oost',
  customer_codes: ['TE1234'],
  approvers: ['alice'],
  ...overrides,
});

/** A file with one organisation, changed by `overrides`, and top-level settings `top`. */
const one = (overrides: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
  organisations: [organisation(overrides)],
  ...top,
});

function parsed(raw: unknown): ApproversConfig {
  const result = parseApproversConfig(raw);
  if (!result.ok) throw new Error(`expected a valid file, got: ${result.problems.join('; ')}`);
  return result.config;
}

function problems(raw: unknown): string[] {
  const result = parseApproversConfig(raw);
  if (result.ok) throw new Error('expected problems, the file was accepted');
  return result.problems;
}

describe('the approvers file', () => {
  it('takes a managed user of GitHub Enterprise Cloud (login_shortcode) as an approver', () => {
    expect(
      parsed(one({ approvers: ['Mona-Cat_acme', '@acme-care/approvers'] })).organisations[0],
    ).toMatchObject({
      users: ['mona-cat_acme'],
      teams: [{ org: 'acme-care', slug: 'approvers' }],
    });
  });

  it("parses product.md's example", () => {
    expect(parseApproversConfig(productExample)).toEqual({
      ok: true,
      config: {
        organisations: [
          {
            name: 'Zorggroep Oost',
            customerCodes: ['TE1234', 'CF1234'],
            users: ['alice'],
            teams: [{ org: 'zorggroep-oost', slug: 'certificate-approvers' }],
          },
        ],
        reminderDays: 3,
        expireDays: 30,
      },
    });
  });

  it('defaults reminder_days to 3 and expire_days to 30, also for an empty YAML value', () => {
    const config = parsed({ organisations: [organisation()] });
    expect([config.reminderDays, config.expireDays]).toEqual([3, 30]);
    const blank = parsed({ organisations: [organisation()], reminder_days: null, expire_days: null });
    expect([blank.reminderDays, blank.expireDays]).toEqual([3, 30]);
  });

  it('normalises codes and approvers and keeps duplicates within an organisation once', () => {
    const config = parsed({
      organisations: [
        organisation({
          name: '  Zorggroep Oost ',
          customer_codes: [' te1234 ', 'cf1234', 'TE1234'],
          approvers: ['@Alice', 'alice', ' BOB ', '@Org/Team_A', 'org/team_a', 'Zorg-Groep/Approvers'],
        }),
      ],
      reminder_days: 1,
      expire_days: 2,
    });
    expect(config.organisations[0]).toEqual({
      name: 'Zorggroep Oost',
      customerCodes: ['TE1234', 'CF1234'],
      users: ['alice', 'bob'],
      teams: [
        { org: 'org', slug: 'team_a' },
        { org: 'zorg-groep', slug: 'approvers' },
      ],
    });
  });

  it.each([undefined, null])('%s (no file) is reported as missing', (raw) => {
    expect(parseApproversConfig(raw)).toEqual({
      ok: false,
      problems: ['the file .github/ons-certificates.yml is missing'],
    });
  });

  it.each<[string, unknown, string]>([
    ['a list', [], 'the file .github/ons-certificates.yml: must be a mapping with organisations'],
    ['text', 'organisations', 'the file .github/ons-certificates.yml: must be a mapping'],
    ['no organisations', {}, 'organisations: is missing; it must be a list of organisations'],
    ['organisations empty', { organisations: [] }, 'organisations: is empty; list at least one organisation'],
    ['organisations a mapping', { organisations: organisation() }, 'organisations: must be a list'],
    ['an unknown setting', one({}, { expires_days: 3 }), 'expires_days: is not a known setting'],
    ['an organisation as text', { organisations: ['Zorggroep'] }, 'organisations[0]: must be a mapping'],
    ['no name', one({ name: undefined }), 'organisations[0].name: is missing'],
    ['a blank name', one({ name: '  ' }), 'organisations[0].name: must not be empty'],
    ['a number as name', one({ name: 7 }), "organisations[0].name: must be the organisation's name, not 7"],
    ['a typo', one({ approver: ['bob'] }), 'organisations[0].approver: is not a known setting'],
    ['codes as text', one({ customer_codes: 'TE1' }), 'organisations[0].customer_codes: must be a list of'],
    ['no codes', one({ customer_codes: [] }), 'organisations[0].customer_codes: is empty'],
    ['not a code', one({ customer_codes: ['XF1'] }), 'organisations[0].customer_codes[0]: "XF1" is not a'],
    ['a number as code', one({ customer_codes: [1234] }), 'organisations[0].customer_codes[0]: must be a'],
    ['no approvers', one({ approvers: [] }), 'organisations[0].approvers: is empty'],
    ['approvers missing', one({ approvers: undefined }), 'organisations[0].approvers: is missing'],
    ['an e-mail address', one({ approvers: ['al', 'b@c.nl'] }), 'organisations[0].approvers[1]: "b@c.nl" is'],
    ['a login too long', one({ approvers: ['a'.repeat(40)] }), 'organisations[0].approvers[0]: "aaaa'],
    [
      'a login with two underscores',
      one({ approvers: ['a_b_c'] }),
      'organisations[0].approvers[0]: "a_b_c" is neither',
    ],
    ['a nested team', one({ approvers: ['@o/t/s'] }), 'organisations[0].approvers[0]: "@o/t/s" is neither'],
    ['reminder_days not whole', one({}, { reminder_days: 2.5 }), 'reminder_days: must be a whole number of'],
    ['reminder_days 0', one({}, { reminder_days: 0 }), 'reminder_days: must be a whole number of days'],
    ['reminder_days 31', one({}, { reminder_days: 31, expire_days: 60 }), 'to 30, not 31'],
    ['expire_days as text', one({}, { expire_days: '30' }), 'expire_days: must be a whole number of'],
    ['expire_days 366', one({}, { expire_days: 366 }), 'expire_days: must be a whole number of days from 1'],
    ['expire_days = reminder_days', one({}, { reminder_days: 5, expire_days: 5 }), 'reminder_days (5)'],
    ['expire_days < the default reminder', one({}, { expire_days: 2 }), 'more than reminder_days (3)'],
    [
      'the development code',
      { organisations: [organisation(), organisation({ name: 'B', customer_codes: ['CF0001', 'te1002'] })] },
      'organisations[1].customer_codes[1]: "TE1002" is the development code; only staging (TE####) and ' +
        'production (CF/DF/MF####) codes need approvers',
    ],
  ])('%s is a problem', (_what, raw, problem) => {
    expect(problems(raw).join('\n')).toContain(problem);
  });

  it('reports a customer code listed by two organisations at its second place', () => {
    const found = problems({
      organisations: [
        organisation({ customer_codes: ['TE1234', 'CF1234'] }),
        organisation({ name: 'Zorggroep West', customer_codes: ['TE5678', 'cf1234'] }),
      ],
    });
    expect(found).toEqual([
      'organisations[1].customer_codes[1]: "CF1234" is also listed by organisations[0] ("Zorggroep Oost"); ' +
        'a customer code belongs to one organisation, so list it once',
    ]);
  });

  it('names every problem at once, one wrong organisation not hiding the others', () => {
    const found = problems({
      organisations: [
        organisation({ name: '', customer_codes: ['TE1002'] }),
        organisation({ name: 'B', customer_codes: ['CF1234'], approvers: ['not a login'] }),
        organisation({ name: 'C', customer_codes: ['CF0001'] }),
        organisation({ name: 'D', customer_codes: ['cf0001'] }),
      ],
      reminder_days: 40,
      typo: true,
    });
    expect(found.map((p) => p.slice(0, p.indexOf(':')))).toEqual([
      'typo',
      'organisations[0].name',
      'organisations[0].customer_codes[0]',
      'organisations[1].approvers[0]',
      'organisations[3].customer_codes[0]',
      'reminder_days',
    ]);
  });

  it('keeps problems on one line whatever the file held', () => {
    const found = problems({ organisations: [organisation({ customer_codes: ['CF\n1234'] })] });
    expect(found.join('')).not.toContain('\n');
  });
});

describe('approversFor', () => {
  const config = parsed({
    organisations: [
      productExample.organisations[0],
      organisation({ name: 'Zorggroep West', customer_codes: ['DF0001'], approvers: ['@Bob', 'Carol'] }),
    ],
  });

  it('returns users (lower-case, no @) and teams of the organisation that lists the code', () => {
    expect(approversFor(config, 'CF1234')).toEqual({
      organisation: 'Zorggroep Oost',
      users: ['alice'],
      teams: [{ org: 'zorggroep-oost', slug: 'certificate-approvers' }],
    });
    expect(approversFor(config, 'DF0001')).toEqual({
      organisation: 'Zorggroep West',
      users: ['bob', 'carol'],
      teams: [],
    });
  });

  it('finds a code in any case and with blanks around it', () => {
    expect(approversFor(config, ' te1234 ')?.organisation).toBe('Zorggroep Oost');
  });

  it('is undefined for a code no organisation lists (needs-config)', () => {
    expect(approversFor(config, 'MF9999')).toBeUndefined();
    expect(approversFor(config, 'TE1002')).toBeUndefined();
  });

  it('hands out copies, so a caller cannot change the configuration', () => {
    const found = approversFor(config, 'TE1234');
    found?.users.push('mallory');
    found?.teams.splice(0);
    expect(approversFor(config, 'TE1234')?.users).toEqual(['alice']);
    expect(approversFor(config, 'TE1234')?.teams).toHaveLength(1);
  });
});
