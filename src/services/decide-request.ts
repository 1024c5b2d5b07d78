import { eq } from 'drizzle-orm';
import { withPrimalityTest } from '../ca/key-primality.ts';
import { parseCsr, type ParsedCsr } from '../ca/parse-csr.ts';
import { judgeCsr } from '../core/csr-policy.ts';
import { transition } from '../core/request-state.ts';
import type { Transaction } from '../db/database.ts';
import { retryOnUniqueViolation } from '../db/errors.ts';
import { appendAudit } from '../db/repositories/audit.ts';
import { certificateForRequest, requestById, type CertificateRow } from '../db/repositories/certificates.ts';
import {
  lockRequestForDecision,
  writeApproval,
  type RequestForDecision,
} from '../db/repositories/decisions.ts';
import { certificateRequests } from '../db/schema.ts';
import type { IssuedCertificateFacts } from '../core/notifier.ts';
import { describeActor, type Actor } from './actor.ts';
import type { ServiceContext } from './context.ts';
import { certificateView } from './environments.ts';
import {
  certificateValues,
  issue,
  issuedAudit,
  newCertificateView,
  type Origin,
  type RequestResult,
} from './issuing.ts';
import { failure, notFound, success, type Failure, type Outcome } from './outcome.ts';

export interface Decision extends Origin {
  /** The CSR fingerprint the approver saw; a different CSR must be asked again. */
  csrSha256?: string | undefined;
  commentId?: number | undefined;
}

/** A certificate as the decision's reports tell it: the ticket comment and the e-mail. */
export type ApprovedCertificate = IssuedCertificateFacts & { pem: string };

/**
 * The organisation approves a waiting request: consent is recorded for the line and the CSR
 * is signed, in one transaction. Approving a request that is already signed answers with its
 * certificate (`alreadySigned`), so duplicate deliveries and concurrent approvers are harmless.
 * The transaction is three round trips: the locked read (with the line's facts and the key's
 * history), the signing on the thread pool, and one statement writing everything.
 */
export async function approveRequest(
  ctx: ServiceContext,
  approver: Extract<Actor, { kind: 'approver' }>,
  requestId: string,
  decision: Decision = {},
): Promise<
  Outcome<RequestResult & { alreadySigned: boolean; certificateId?: string; issued?: ApprovedCertificate }>
> {
  const outcome = await retryOnUniqueViolation(() =>
    ctx.db.transaction(async (tx) => {
      const found = await lockRequestForDecision(tx, requestId);
      if (!found) return notFound(`request ${requestId}`);
      const { request } = found;
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
            certificateId: existing.id,
            issued: approvedCertificate(found, existing),
          });
        }
        return failure(next.code, next.message);
      }
      const parsed = await withPrimalityTest(parseCsr(request.csrPem));
      // The key may have been certified on another line, or blocked, since the upload, and the
      // policy may be stricter now: judge the CSR again.
      const refused = await refuseJudgedAgain(ctx, tx, approver, found, parsed, decision);
      if (refused) return refused;
      if (!parsed.ok) throw new Error(`request ${request.id} holds an unreadable CSR and cannot be signed`);
      const issued = await issue(ctx, parsed);
      const certificate = certificateValues(request.id, request.lineId, issued);
      const ticket = decision.ticket ?? request.ticket;
      await writeApproval(tx, {
        requestId: request.id,
        decidedBy: describeActor(approver),
        consent: {
          lineId: request.lineId,
          requestId: request.id,
          approverLogin: approver.login,
          approverId: approver.githubId,
          ticket,
          commentId: decision.commentId,
        },
        certificate,
        audit: [
          {
            actor: describeActor(approver),
            action: 'request.approved',
            subjectType: 'request',
            subjectId: request.id,
            requestId: request.id,
            deliveryId: decision.deliveryId,
            details: { ticket, commentId: decision.commentId },
          },
          issuedAudit(approver, certificate, decision),
        ],
      });
      return success({
        request: { id: request.id, state: 'signed' as const },
        certificate: newCertificateView(certificate),
        alreadySigned: false,
        certificateId: certificate.id,
        issued: approvedCertificate(found, certificate),
      });
    }),
  );
  if (outcome.ok && !outcome.value.alreadySigned && outcome.value.certificateId) {
    await ctx.notifier?.certificateIssued({
      certificateId: outcome.value.certificateId,
      how: 'approval',
      approver: approver.login,
      facts: outcome.value.issued,
    });
  }
  return outcome;
}

function approvedCertificate(
  found: RequestForDecision,
  certificate: Pick<
    CertificateRow,
    'serial' | 'commonName' | 'fingerprintSha256' | 'notBefore' | 'notAfter' | 'pem'
  >,
): ApprovedCertificate {
  const { serial, commonName, fingerprintSha256, notBefore, notAfter, pem } = certificate;
  const { customerCode, connector, version, supplier, supplierEmail } = found;
  return {
    serial,
    commonName,
    fingerprintSha256,
    notBefore,
    notAfter,
    pem,
    customerCode,
    connector,
    version,
    supplier,
    supplierEmail,
  };
}

/**
 * Marks a waiting request invalid when today's policy refuses its CSR; the failure, or
 * undefined. The whole policy runs again, not only what may have changed since the upload (the
 * key certified elsewhere or blocked by Nedap support): a request uploaded under older, laxer
 * checks, or before a stricter setting, is signed only if it meets today's.
 */
async function refuseJudgedAgain(
  ctx: ServiceContext,
  tx: Transaction,
  actor: Actor,
  found: RequestForDecision,
  parsed: ParsedCsr,
  origin: Origin,
): Promise<{ ok: false; failures: Failure[] } | undefined> {
  const { request, keyHistory } = found;
  const verdict = judgeCsr(parsed, {
    minRsaBits: ctx.minRsaBits,
    connector: found.connector,
    customerCode: found.customerCode,
    knownKeys: new Map(request.publicKeySha256 && keyHistory ? [[request.publicKeySha256, keyHistory]] : []),
  });
  const violations = verdict.violations;
  if (verdict.ok) return undefined;
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
  const outcome = await ctx.db.transaction(async (tx) => {
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
  if (outcome.ok) await ctx.notifier?.requestRejected({ requestId, approver: approver.login, reason: why });
  return outcome;
}
