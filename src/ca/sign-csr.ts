import type { CsrFacts, PolicyContext, Violation } from '../core/csr-policy.ts';
import { judgeCsr } from '../core/csr-policy.ts';
import type { CertificateAuthority } from './certificate-authority.ts';
import { issueCertificate, type IssuedCertificate, type IssueOptions } from './issue-certificate.ts';
import { parseCsr } from './parse-csr.ts';

export type SignResult =
  | { ok: true; certificate: IssuedCertificate; facts: CsrFacts }
  | { ok: false; violations: Violation[]; facts?: CsrFacts };

/**
 * The whole issuing path for one CSR: parse, verify, judge, build, sign, PEM. A certificate
 * is only ever made for a CSR the policy accepts.
 */
export function checkAndIssue(
  csrPem: string | Buffer,
  context: PolicyContext,
  ca: CertificateAuthority,
  options: IssueOptions,
): SignResult {
  const parsed = parseCsr(csrPem);
  const verdict = judgeCsr(parsed, context);
  if (!parsed.ok) return { ok: false, violations: verdict.violations };
  if (!verdict.ok) return { ok: false, violations: verdict.violations, facts: parsed.facts };
  return { ok: true, certificate: issueCertificate(ca, parsed, options), facts: parsed.facts };
}
