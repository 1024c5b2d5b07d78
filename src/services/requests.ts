import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { issueCertificateInPool, type IssuedCertificate } from '../ca/issue-certificate.ts';
import { MAX_CSR_BYTES, parseCsr, type ParsedCsr } from '../ca/parse-csr.ts';
import { judgeCsr } from '../core/csr-policy.ts';
import { NEW, transition } from '../core/request-state.ts';
import type { Transaction } from '../db/database.ts';
import { retryOnUniqueViolation } from '../db/errors.ts';
import { appendAudit, type AuditEntry } from '../db/repositories/audit.ts';
import { findLine, type LineRow } from '../db/repositories/catalog.ts';
import { writeUpload, type NewCertificate, type NewRequest } from '../db/repositories/uploads.ts';
import {
  certificateForRequest,
  consentFor,
  currentCertificates,
  knownKeyStatus,
  requestById,
  type CertificateRow,
  type RequestRow,
} from '../db/repositories/certificates.ts';
import {
  certificateRequests,
  certificates,
  connectors,
  consents,
  environmentLines,
  versions,
} from '../db/schema.ts';
import { normaliseCustomerCode } from '../core/customer-code.ts';
import { describeActor, supplierScope, type Actor } from './actor.ts';
import type { ServiceContext } from './context.ts';
import { certificateView, type CertificateView } from './environments.ts';
import { failure, notFound, success, type Failure, type Outcome } from './outcome.ts';

export interface RequestResult {
  request: { id: string; state: RequestRow['state'] };
  certificate?: CertificateView;
}

export interface LineAddress {
  technicalName: string;
  version: string;
  customerCode: string;
}

/** Where a change came from, for the audit log. */
export interface Origin {
  ticket?: string | undefined;
  deliveryId?: string | undefined;
}

/**
 * Uploads a CSR on a line. The policy runs with the database's knowledge of earlier keys; a
 * refused CSR is kept (state `invalid`, with its violations) so the tab can show why. A valid
 * one is signed at once on a development line or a line with consent (renewal), and otherwise
 * waits for approval, superseding an older waiting request on the same line.
 *
 * No lock is taken on the line: uploads on one line run side by side. The database keeps the
 * invariants (one waiting request per line, one certificate per key); a transaction that loses
 * such a race is run again and then sees the winner (superseding it, or answering key_reused).
 */
export async function uploadCsr(
  ctx: ServiceContext,
  actor: Actor,
  where: LineAddress,
  csr: string | Buffer,
  origin: Origin = {},
): Promise<Outcome<RequestResult>> {
  const parsed = parseCsr(csr);
  const csrText = typeof csr === 'string' ? csr : csr.toString('utf8');
  const customerCode = normaliseCustomerCode(where.customerCode);
  return retryOnUniqueViolation(async () => {
    // Reads outside any transaction: lines, certificates and consents are only ever added, and
    // what a concurrent upload adds meanwhile is caught by the unique constraints (and a retry).
    const [found, knownKeys] = await Promise.all([
      findLine(ctx.db, { ...where, customerCode, supplierId: supplierScope(actor) }),
      parsed.ok ? knownKeyStatus(ctx.db, parsed.facts.publicKeySha256) : new Map(),
    ]);
    if (!found) return notFound(`environment ${customerCode} of ${where.technicalName} ${where.version}`);
    const { connector, line } = found;
    const verdict = judgeCsr(parsed, {
      minRsaBits: ctx.minRsaBits,
      connector: connector.technicalName,
      customerCode: line.customerCode,
      knownKeys,
    });
    const hasConsent =
      verdict.ok && line.kind !== 'development' ? Boolean(await consentFor(ctx.db, line.id)) : false;
    const next = transition(NEW, { type: 'uploaded', kind: line.kind, valid: verdict.ok, hasConsent });
    if (!next.ok) throw new Error(next.message);

    const requestId = randomUUID();
    const issued = next.effects.includes('sign') && parsed.ok ? await issue(ctx, parsed) : undefined;
    const state = issued ? ('signed' as const) : next.state;
    const request: NewRequest = {
      id: requestId,
      lineId: line.id,
      // Kept so the tab can show what was refused; the API never accepts more than 64 KiB.
      csrPem: csrText.slice(0, MAX_CSR_BYTES),
      subject: parsed.ok ? subjectText(parsed) : null,
      csrSha256: parsed.ok ? parsed.facts.fingerprintSha256 : null,
      publicKeySha256: parsed.ok ? parsed.facts.publicKeySha256 : null,
      state,
      errors: verdict.violations,
      ticket: origin.ticket,
    };
    const audit: AuditEntry[] = [
      {
        actor: describeActor(actor),
        action: `request.${next.state === 'invalid' ? 'refused' : 'uploaded'}`,
        subjectType: 'request',
        subjectId: requestId,
        requestId,
        deliveryId: origin.deliveryId,
        details: {
          customerCode: line.customerCode,
          state,
          csrSha256: request.csrSha256,
          ...(verdict.ok ? {} : { errors: verdict.violations.map((v) => v.code) }),
        },
      },
    ];
    const certificate = issued ? certificateValues(requestId, line.id, issued) : undefined;
    if (certificate) audit.push(issuedAudit(actor, certificate, origin));

    if (line.kind === 'development' || next.state === 'invalid') {
      // Nothing waits on a development line and a refused CSR supersedes nothing: one statement.
      await writeUpload(ctx.db, { request, certificate, audit });
    } else {
      await ctx.db.transaction(async (tx) => {
        const superseded = await supersedeWaiting(tx, actor, line, origin);
        await writeUpload(tx, { request, certificate, audit: [...superseded, ...audit] });
      });
    }
    if (!verdict.ok) return { ok: false as const, failures: verdict.violations };
    return success({
      request: { id: requestId, state },
      ...(certificate ? { certificate: newCertificateView(certificate) } : {}),
    });
  });
}

async function supersedeWaiting(
  tx: Transaction,
  actor: Actor,
  line: LineRow,
  origin: Origin,
): Promise<AuditEntry[]> {
  const superseded = await tx
    .update(certificateRequests)
    .set({ state: 'superseded', updatedAt: new Date() })
    .where(and(eq(certificateRequests.lineId, line.id), eq(certificateRequests.state, 'awaiting_approval')))
    .returning({ id: certificateRequests.id });
  return superseded.map(({ id }) => ({
    actor: describeActor(actor),
    action: 'request.superseded',
    subjectType: 'request' as const,
    subjectId: id,
    requestId: id,
    deliveryId: origin.deliveryId,
    reason: 'a newer CSR was uploaded on this line',
  }));
}

function subjectText(parsed: Extract<ParsedCsr, { ok: true }>): string {
  return parsed.facts.subject.map((a) => `${a.type}=${a.value}`).join(', ');
}

interface Issued {
  certificate: IssuedCertificate;
  commonName: string;
  subject: string;
  publicKeySha256: string;
}

/** Signs on the thread pool: the service keeps serving while the RSA operation runs. */
async function issue(ctx: ServiceContext, parsed: Extract<ParsedCsr, { ok: true }>): Promise<Issued> {
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
function certificateValues(requestId: string, lineId: string, issued: Issued): NewCertificate {
  return {
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

function newCertificateView(row: NewCertificate): CertificateView {
  return certificateView({ ...row, enabled: true } as CertificateRow);
}

function issuedAudit(actor: Actor, row: NewCertificate, origin: Origin): AuditEntry {
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

export interface Decision extends Origin {
  /** The CSR fingerprint the approver saw; a different CSR must be asked again. */
  csrSha256?: string | undefined;
  commentId?: number | undefined;
}

/**
 * The organisation approves a waiting request: consent is recorded for the line and the CSR
 * is signed, in one transaction. Approving a request that is already signed answers with its
 * certificate (`alreadySigned`), so duplicate deliveries and concurrent approvers are harmless.
 */
export async function approveRequest(
  ctx: ServiceContext,
  approver: Extract<Actor, { kind: 'approver' }>,
  requestId: string,
  decision: Decision = {},
): Promise<Outcome<RequestResult & { alreadySigned: boolean }>> {
  return retryOnUniqueViolation(() =>
    ctx.db.transaction(async (tx) => {
      const request = await requestById(tx, requestId, true);
      if (!request) return notFound(`request ${requestId}`);
      if (decision.csrSha256 && decision.csrSha256 !== request.csrSha256) {
        return failure('csr_changed', 'the CSR of this request is not the one that was shown for approval');
      }
      const next = transition(request.state, { type: 'approved' });
      if (!next.ok) {
        const existing =
          next.code === 'already_signed' ? await certificateForRequest(tx, request.id) : undefined;
        if (existing) {
          return success({
            request: { id: request.id, state: 'signed' as const },
            certificate: certificateView(existing),
            alreadySigned: true,
          });
        }
        return failure(next.code, next.message);
      }
      // The key may have been certified on another line since the upload: judge it again.
      const refused = await refuseReusedKey(tx, approver, request, decision);
      if (refused) return refused;
      const parsed = parseCsr(request.csrPem);
      if (!parsed.ok) throw new Error(`request ${request.id} holds an unreadable CSR and cannot be signed`);
      const issued = await issue(ctx, parsed);
      await tx
        .insert(consents)
        .values({
          lineId: request.lineId,
          requestId: request.id,
          approverLogin: approver.login,
          approverId: approver.githubId,
          ticket: decision.ticket ?? request.ticket,
          commentId: decision.commentId,
        })
        .onConflictDoNothing();
      await tx
        .update(certificateRequests)
        .set({ state: 'signed', decidedBy: describeActor(approver), updatedAt: new Date() })
        .where(eq(certificateRequests.id, request.id));
      const audit: AuditEntry[] = [
        {
          actor: describeActor(approver),
          action: 'request.approved',
          subjectType: 'request',
          subjectId: request.id,
          requestId: request.id,
          deliveryId: decision.deliveryId,
          details: { ticket: decision.ticket ?? request.ticket, commentId: decision.commentId },
        },
      ];
      const certificate = certificateValues(request.id, request.lineId, issued);
      await tx.insert(certificates).values(certificate);
      audit.push(issuedAudit(approver, certificate, decision));
      await appendAudit(tx, audit);
      return success({
        request: { id: request.id, state: 'signed' as const },
        certificate: newCertificateView(certificate),
        alreadySigned: false,
      });
    }),
  );
}

/** Marks a waiting request invalid when its key was certified meanwhile; the failure, or undefined. */
async function refuseReusedKey(
  tx: Transaction,
  actor: Actor,
  request: RequestRow,
  origin: Origin,
): Promise<{ ok: false; failures: Failure[] } | undefined> {
  if (!request.publicKeySha256) return undefined;
  const parsed = parseCsr(request.csrPem);
  const verdict = judgeCsr(parsed, {
    minRsaBits: 0,
    knownKeys: await knownKeyStatus(tx, request.publicKeySha256),
  });
  const violations = verdict.violations.filter(
    (v) => v.code === 'key_reused' || v.code === 'key_compromised',
  );
  if (violations.length === 0) return undefined;
  const next = transition(request.state, { type: 'invalidated' });
  if (!next.ok) return { ok: false, failures: violations };
  await tx
    .update(certificateRequests)
    .set({ state: next.state, errors: violations, updatedAt: new Date() })
    .where(eq(certificateRequests.id, request.id));
  await appendAudit(tx, {
    actor: describeActor(actor),
    action: 'request.refused',
    subjectType: 'request',
    subjectId: request.id,
    requestId: request.id,
    deliveryId: origin.deliveryId,
    reason: violations.map((v) => v.code).join(', '),
  });
  return { ok: false, failures: violations };
}

/** The organisation rejects a waiting request, with its reason. */
export async function rejectRequest(
  ctx: ServiceContext,
  approver: Extract<Actor, { kind: 'approver' }>,
  requestId: string,
  reason: string,
  decision: Decision = {},
): Promise<Outcome<RequestResult>> {
  const why = reason.trim();
  if (why === '') return failure('reason_required', 'say why the request is rejected: /reject <reason>');
  return ctx.db.transaction(async (tx) => {
    const request = await requestById(tx, requestId, true);
    if (!request) return notFound(`request ${requestId}`);
    const next = transition(request.state, { type: 'rejected' });
    if (!next.ok) return failure(next.code, next.message);
    await tx
      .update(certificateRequests)
      .set({
        state: 'rejected',
        decidedBy: describeActor(approver),
        decisionReason: why,
        updatedAt: new Date(),
      })
      .where(eq(certificateRequests.id, request.id));
    await appendAudit(tx, {
      actor: describeActor(approver),
      action: 'request.rejected',
      subjectType: 'request',
      subjectId: request.id,
      requestId: request.id,
      deliveryId: decision.deliveryId,
      reason: why,
    });
    return success({ request: { id: request.id, state: 'rejected' as const } });
  });
}

/** The current certificate of a line, for "Download PEM file". */
export async function currentCertificate(
  ctx: ServiceContext,
  actor: Actor,
  where: LineAddress,
): Promise<Outcome<CertificateRow>> {
  const customerCode = normaliseCustomerCode(where.customerCode);
  const found = await findLine(ctx.db, { ...where, customerCode, supplierId: supplierScope(actor) });
  if (!found) return notFound(`environment ${customerCode} of ${where.technicalName} ${where.version}`);
  const certificate = (await currentCertificates(ctx.db, [found.line.id])).get(found.line.id);
  if (!certificate) return notFound(`a certificate for ${customerCode}`);
  return success(certificate);
}

export interface RequestListing {
  id: string;
  state: RequestRow['state'];
  technicalName: string;
  version: string;
  customerCode: string;
  subject: string | null;
  csrSha256: string | null;
  ticket: string | null;
  createdAt: string;
}

/** Requests in one state, oldest first: what Nedap support looks at. */
export async function listRequests(
  ctx: ServiceContext,
  state: RequestRow['state'],
): Promise<RequestListing[]> {
  const rows = await ctx.db
    .select({
      request: certificateRequests,
      technicalName: connectors.technicalName,
      version: versions.version,
      customerCode: environmentLines.customerCode,
    })
    .from(certificateRequests)
    .innerJoin(environmentLines, eq(certificateRequests.lineId, environmentLines.id))
    .innerJoin(versions, eq(environmentLines.versionId, versions.id))
    .innerJoin(connectors, eq(versions.connectorId, connectors.id))
    .where(eq(certificateRequests.state, state))
    .orderBy(asc(certificateRequests.createdAt))
    .limit(1000);
  return rows.map(({ request, technicalName, version, customerCode }) => ({
    id: request.id,
    state: request.state,
    technicalName,
    version,
    customerCode,
    subject: request.subject,
    csrSha256: request.csrSha256,
    ticket: request.ticket,
    createdAt: request.createdAt.toISOString(),
  }));
}
