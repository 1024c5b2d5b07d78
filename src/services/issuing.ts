import { randomUUID } from 'node:crypto';
import type { IssuedCertificate } from '../ca/issue-certificate.ts';
import { issueCertificateInPool } from '../ca/issue-certificate.ts';
import type { ParsedCsr } from '../ca/parse-csr.ts';
import type { CsrFacts } from '../core/csr-policy.ts';
import { formatSubject } from '../core/distinguished-name.ts';
import type { AuditEntry } from '../db/repositories/audit.ts';
import type { CertificateRow, RequestRow } from '../db/repositories/certificates.ts';
import type { NewCertificate } from '../db/repositories/uploads.ts';
import { describeActor, type Actor } from './actor.ts';
import type { ServiceContext } from './context.ts';
import { certificateView, type CertificateView } from './environments.ts';

export interface RequestResult {
  request: { id: string; state: RequestRow['state'] };
  certificate?: CertificateView;
}

/** Where a change came from, for the audit log. */
export interface Origin {
  ticket?: string | undefined;
  deliveryId?: string | undefined;
}

/** The subject as stored and shown: RFC 4514-escaped, in the CSR's order (`formatSubject`). */
export function subjectText(parsed: { facts: Pick<CsrFacts, 'subject'> }): string {
  return formatSubject(parsed.facts.subject);
}

export interface Issued {
  certificate: IssuedCertificate;
  commonName: string;
  subject: string;
  publicKeySha256: string;
}

/** Signs on the thread pool: the service keeps serving while the RSA operation runs. */
export async function issue(ctx: ServiceContext, parsed: Extract<ParsedCsr, { ok: true }>): Promise<Issued> {
  return {
    certificate: await issueCertificateInPool(ctx.ca, parsed, {
      now: ctx.now(),
      randomBytes: ctx.randomBytes,
      ...(ctx.crlDistributionPoint ? { crlDistributionPoint: ctx.crlDistributionPoint } : {}),
    }),
    commonName: parsed.facts.subject.find((a) => a.type === 'CN')?.value ?? '',
    subject: subjectText(parsed),
    publicKeySha256: parsed.facts.publicKeySha256,
  };
}

/** The row of a new certificate; request_id and public_key_sha256 are unique in the table. */
export function certificateValues(requestId: string, lineId: string, issued: Issued): NewCertificate {
  return {
    id: randomUUID(),
    requestId,
    lineId,
    serial: issued.certificate.serial,
    commonName: issued.commonName,
    subject: issued.subject,
    pem: issued.certificate.pem,
    fingerprintSha256: issued.certificate.fingerprintSha256,
    publicKeySha256: issued.publicKeySha256,
    notBefore: issued.certificate.notBefore,
    notAfter: issued.certificate.notAfter,
  };
}

export function newCertificateView(row: NewCertificate): CertificateView {
  return certificateView({ ...row, enabled: true } as CertificateRow);
}

export function issuedAudit(actor: Actor, row: NewCertificate, origin: Origin): AuditEntry {
  return {
    actor: describeActor(actor),
    action: 'certificate.issued',
    subjectType: 'certificate',
    subjectId: row.serial,
    requestId: row.requestId,
    deliveryId: origin.deliveryId,
    details: {
      commonName: row.commonName,
      notAfter: row.notAfter.toISOString(),
      fingerprintSha256: row.fingerprintSha256,
    },
  };
}
