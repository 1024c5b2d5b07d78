import { z } from 'zod';
import { normaliseCustomerCode, parseCustomerCode, printable } from './customer-code.ts';
import { isGitHubLogin, isGitHubTeam } from './github-names.ts';

/** Where the approvers file lives in the support repository (product.md, "The ticket"). */
export const APPROVERS_FILE = '.github/ons-certificates.yml';

/** A GitHub team, as `@org/team-slug`; both parts lower-cased (GitHub compares them so). */
export type ApproverTeam = { org: string; slug: string };

/** The people who may approve or reject a request for a customer code. */
export interface Approvers {
  /** The organisation's `name` from the file. */
  organisation: string;
  /** GitHub logins, lower-cased, without `@`. */
  users: string[];
  teams: ApproverTeam[];
}

export interface ApproversConfig {
  organisations: { name: string; customerCodes: string[]; users: string[]; teams: ApproverTeam[] }[];
  reminderDays: number;
  expireDays: number;
}

export type ApproversConfigResult = { ok: true; config: ApproversConfig } | { ok: false; problems: string[] };

type Path = readonly PropertyKey[];

const TOP_KEYS = ['organisations', 'reminder_days', 'expire_days'];
const ORGANISATION_KEYS = ['name', 'customer_codes', 'approvers'];

/** How a wrong value reads in a problem: what it is, not a JSON dump. */
function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${printable(value)}"`;
  return printable(String(value));
}

/** Zod's own type errors name JavaScript types; the people editing the file think in YAML. */
const expected = (what: string) => ({
  error: (issue: { input?: unknown }) =>
    issue.input === undefined
      ? `is missing; it must be ${what}`
      : `must be ${what}, not ${describeValue(issue.input)}`,
});

const customerCode = z
  .string(expected('a customer code such as TE1234 or CF1234'))
  .transform((value, ctx) => {
    const result = parseCustomerCode(value);
    if (result.ok && result.kind !== 'development') return result.code;
    const message = result.ok
      ? `"${result.code}" is the development code; only staging (TE####) and production (CF/DF/MF####) ` +
        'codes need approvers'
      : `"${printable(value)}" is not a customer code; use TE and 4 digits for a staging environment ` +
        '(e.g. TE1234) or CF, DF or MF and 4 digits for a production environment (e.g. CF1234)';
    ctx.addIssue({ code: 'custom', input: value, message });
    return z.NEVER;
  });

type Approver = { kind: 'user'; login: string } | { kind: 'team'; team: ApproverTeam };

const approver = z
  .string(expected('a GitHub login such as alice or a team such as "@org/team-slug"'))
  .transform((value, ctx): Approver => {
    const name = value.trim().replace(/^@/, '');
    const bare = name.toLowerCase();
    const [org = '', slug = ''] = bare.split('/');
    if (isGitHubTeam(name)) return { kind: 'team', team: { org, slug } };
    if (isGitHubLogin(name)) return { kind: 'user', login: bare };
    const message =
      `"${printable(value)}" is neither a GitHub login (up to 39 letters, digits and dashes, e.g. alice, or a managed user such as alice_acme) ` +
      'nor a team written as "@org/team-slug"';
    ctx.addIssue({ code: 'custom', input: value, message });
    return z.NEVER;
  });

const organisation = z.strictObject(
  {
    name: z.string(expected("the organisation's name")).trim().min(1, 'must not be empty'),
    customer_codes: z
      .array(customerCode, expected('a list of customer codes such as [TE1234, CF1234]'))
      .min(1, "is empty; list the organisation's staging and production codes"),
    approvers: z
      .array(approver, expected('a list of GitHub logins and "@org/team-slug" teams'))
      .min(1, 'is empty; list at least one GitHub user or team who may approve'),
  },
  expected('a mapping with name, customer_codes and approvers'),
);

const mapping = z.looseObject({}, expected('a mapping with organisations, reminder_days and expire_days'));
const organisations = z
  .array(z.unknown(), expected('a list of organisations, each with name, customer_codes and approvers'))
  .min(1, 'is empty; list at least one organisation');

/** An empty YAML value (`reminder_days:`) means "use the default", as leaving the line out does. */
const days = (min: number, max: number, fallback: number) =>
  z.preprocess(
    (value) => (value === null ? undefined : value),
    z
      .number(expected(`a whole number of days from ${min} to ${max}`))
      .refine((n) => Number.isInteger(n) && n >= min && n <= max, {
        error: (issue) =>
          `must be a whole number of days from ${min} to ${max}, not ${describeValue(issue.input)}`,
      })
      .default(fallback),
  );
const reminderDays = days(1, 30, 3);
const expireDays = days(1, 365, 30);

/**
 * Validates the approvers file, already parsed from YAML. Never throws; every problem is
 * named with its place in the file (`organisations[1].customer_codes[0]: …`) so that Nedap
 * support can fix them all in one edit. Each part is checked on its own, so that one wrong
 * organisation does not hide the problems of the others.
 */
export function parseApproversConfig(raw: unknown): ApproversConfigResult {
  if (raw === undefined || raw === null)
    return { ok: false, problems: [`the file ${APPROVERS_FILE} is missing`] };
  const problems: string[] = [];
  const top = check(mapping, raw, [], problems);
  if (!top) return { ok: false, problems };
  // A typo such as `expires_days` would otherwise silently fall back to the default.
  for (const key of Object.keys(top).filter((k) => !TOP_KEYS.includes(k)))
    problems.push(unknownKey([key], TOP_KEYS));

  const parsed: ApproversConfig['organisations'] = [];
  const owner = new Map<string, { index: number; name: string }>();
  const list = check(organisations, top['organisations'], ['organisations'], problems) ?? [];
  list.forEach((entry, index) => {
    const org = check(organisation, entry, ['organisations', index], problems);
    if (!org) return;
    org.customer_codes.forEach((code, at) => {
      const first = owner.get(code);
      if (first === undefined) owner.set(code, { index, name: org.name });
      else if (first.index !== index) {
        problems.push(
          `${formatPath(['organisations', index, 'customer_codes', at])}: "${code}" is also listed by ` +
            `organisations[${first.index}] ("${printable(first.name)}"); a customer code belongs ` +
            'to one organisation, so list it once',
        );
      }
    });
    const approvers = org.approvers;
    const teams = approvers.flatMap((a) => (a.kind === 'team' ? [a.team] : []));
    parsed.push({
      name: org.name,
      // Listing a code or person twice in one organisation is harmless: keep them once.
      customerCodes: [...new Set(org.customer_codes)],
      users: [...new Set(approvers.flatMap((a) => (a.kind === 'user' ? [a.login] : [])))],
      teams: [...new Map(teams.map((t) => [`${t.org}/${t.slug}`, t])).values()],
    });
  });

  const reminder = check(reminderDays, top['reminder_days'], ['reminder_days'], problems);
  const expire = check(expireDays, top['expire_days'], ['expire_days'], problems);
  if (reminder !== undefined && expire !== undefined && expire <= reminder) {
    problems.push(
      `expire_days: ${expire} must be more than reminder_days (${reminder}), ` +
        'so that approvers are reminded before a request expires',
    );
  }
  if (problems.length > 0 || reminder === undefined || expire === undefined) return { ok: false, problems };
  return { ok: true, config: { organisations: parsed, reminderDays: reminder, expireDays: expire } };
}

/**
 * The approvers of a customer code (any case, surrounding blanks ignored). `undefined` means
 * no organisation lists the code: the caller asks Nedap support to add it (`needs-config`).
 */
export function approversFor(config: ApproversConfig, customerCode: string): Approvers | undefined {
  const code = normaliseCustomerCode(customerCode);
  const org = config.organisations.find((o) => o.customerCodes.includes(code));
  if (!org) return undefined;
  return { organisation: org.name, users: [...org.users], teams: org.teams.map((t) => ({ ...t })) };
}

/** Runs one schema on one part of the file; its issues become problems under `path`. */
function check<T>(schema: z.ZodType<T>, value: unknown, path: Path, problems: string[]): T | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const at = [...path, ...issue.path];
    // Only an organisation is a strict object (the top level is checked by hand).
    if (issue.code === 'unrecognized_keys')
      problems.push(...issue.keys.map((k) => unknownKey([...at, k], ORGANISATION_KEYS)));
    else problems.push(`${formatPath(at)}: ${issue.message}`);
  }
  return undefined;
}

function unknownKey(path: Path, known: string[]): string {
  return `${formatPath(path)}: is not a known setting; the settings here are ${known.join(', ')}`;
}

/** `['organisations', 1, 'customer_codes', 0]` → `organisations[1].customer_codes[0]`. */
function formatPath(path: Path): string {
  if (path.length === 0) return `the file ${APPROVERS_FILE}`;
  return path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${printable(String(part))}`,
    )
    .join('');
}
