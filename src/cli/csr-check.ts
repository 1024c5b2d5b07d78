import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { withPrimalityTest } from '../ca/key-primality.ts';
import { oversizedProblem, MAX_CSR_BYTES, parseCsr, type ParsedCsr } from '../ca/parse-csr.ts';
import type { Config } from '../config.ts';
import { TECHNICAL_NAME } from '../core/common-name.ts';
import { judgeCsr, REQUIRED_SUBJECT_FIELDS, type CsrFacts } from '../core/csr-policy.ts';
import { parseCustomerCode } from '../core/customer-code.ts';
import { formatSubject } from '../core/distinguished-name.ts';
import { UsageError, type Output } from './output.ts';

/**
 * `ons-certs csr check <file>`: the policy, offline, weak keys included (factorable moduli,
 * ROCA, primes). What needs the database is not checked: earlier certificates with the key
 * (`key_reused`, `key_compromised`) and Nedap support's blocked keys (`key_blocked`). Exit 0 when the CSR meets it, 1 with
 * every violation listed, 2 when the file cannot be read or the usage is wrong.
 */
export async function csrCheck(
  args: string[],
  config: Pick<Config, 'csrMinRsaBits'>,
  output: Output,
): Promise<number> {
  const { values, positionals } = parseOptions(args);
  if (positionals.length !== 1) throw new UsageError('csr check takes exactly one file');
  const file = positionals[0]!;
  const connector = values.connector;
  if (connector !== undefined && !TECHNICAL_NAME.test(connector)) {
    throw new UsageError(
      `--connector "${connector}" is not a technical name (lower-case letters, digits, _)`,
    );
  }
  let customerCode: string | undefined;
  if (values['customer-code'] !== undefined) {
    const code = parseCustomerCode(values['customer-code']);
    if (!code.ok) throw new UsageError(`--customer-code: ${code.message}`);
    customerCode = code.code;
  }

  let parsed: ParsedCsr;
  try {
    const { size } = await stat(file);
    parsed =
      size > MAX_CSR_BYTES ? { ok: false, problem: oversizedProblem(size) } : parseCsr(await readFile(file));
  } catch (error) {
    output.err(`ons-certs: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return 2;
  }

  parsed = await withPrimalityTest(parsed);
  const verdict = judgeCsr(parsed, { minRsaBits: config.csrMinRsaBits, connector, customerCode });
  const facts = parsed.ok ? parsed.facts : undefined;
  if (values.json) {
    output.out(JSON.stringify(jsonReport(verdict.ok, verdict.violations, facts)));
  } else if (verdict.ok) {
    output.out(`${file}: meets the Ons API requirements`);
    output.out(describe(facts!));
  } else {
    const count = verdict.violations.length;
    output.out(`${file}: ${count} problem${count === 1 ? '' : 's'} to fix`);
    for (const v of verdict.violations) output.out(`  - ${v.code}: ${v.message}`);
    if (facts) output.out(describe(facts));
  }
  return verdict.ok ? 0 : 1;
}

function parseOptions(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        connector: { type: 'string' },
        'customer-code': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function subjectOf(facts: CsrFacts): Partial<Record<(typeof REQUIRED_SUBJECT_FIELDS)[number], string>> {
  const subject: Partial<Record<(typeof REQUIRED_SUBJECT_FIELDS)[number], string>> = {};
  for (const field of REQUIRED_SUBJECT_FIELDS) {
    const value = facts.subject.find((a) => a.type === field)?.value;
    if (value !== undefined) subject[field] = value;
  }
  return subject;
}

function jsonReport(ok: boolean, errors: { code: string; message: string }[], facts: CsrFacts | undefined) {
  if (!facts) return { ok, errors };
  return {
    ok,
    errors,
    subject: subjectOf(facts),
    ...(facts.publicKey.bits !== undefined ? { keyBits: facts.publicKey.bits } : {}),
    fingerprintSha256: facts.fingerprintSha256,
    publicKeySha256: facts.publicKeySha256,
  };
}

function describe(facts: CsrFacts): string {
  const subject = formatSubject(facts.subject);
  const key = facts.publicKey.bits
    ? `${facts.publicKey.type.toUpperCase()} ${facts.publicKey.bits} bits`
    : facts.publicKey.type;
  return [
    `  subject:            ${subject}`,
    `  key:                ${key}`,
    `  signature:          ${facts.signatureAlgorithm}`,
    `  CSR SHA-256:        ${facts.fingerprintSha256}`,
    `  public key SHA-256: ${facts.publicKeySha256}`,
  ].join('\n');
}
