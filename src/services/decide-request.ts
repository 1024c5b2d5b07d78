import { eq } from 'drizzle-orm';
import { parseCsr } from '../ca/parse-csr.ts';
import { judgeCsr } from '../core/csr-policy.ts';
import { transition } from '../core/request-state.ts';
import type { Transaction } from '../db/database.ts';
import { retryOnUniqueViolation } from '../db/errors.ts';
import { appendAudit, type AuditEntry } from '../db/repositories/audit.ts';
import {
  certificateForRequest,
  knownKeyStatus,
  requestById,
  type RequestRow,
} from '../db/repositories/certificates.ts';
import { certificateRequests, certificates, consents } from '../db/schema.ts';
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
): Promise<Outcome<RequestResult & { alreadySigned: boolean; certificateId?: string }>> {
  const outcome = await retryOnUniqueViolation(() =>
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
            certificateId: existing.id,
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
        certificateId: certificate.id,
      });
    }),
  );
  if (outcome.ok && !outcome.value.alreadySigned && outcome.value.certificateId) {
    await ctx.notifier?.certificateIssued({
      certificateId: outcome.value.certificateId,
      how: 'approval',
      approver: approver.login,
    });
  }
  return outcome;
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
