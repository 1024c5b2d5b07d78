import type { Job } from 'bullmq';
import { dashboardUrl } from '../bot/bot-deps.ts';
import type { Logger } from '../log.ts';
import type { ServiceContext } from '../services/context.ts';
import { approveRequest } from '../services/decide-request.ts';
import {
  approvedComment,
  certificateFacts,
  csrChangedComment,
  refusalReply,
} from '../templates/decision-comments.ts';
import { addTicketUpdate, promoteApproval, ticketUpdateId } from './enqueue.ts';
import { closeAs, LABELS, type SigningJob } from './jobs.ts';
import type { Queues } from './queues.ts';

export interface SigningDeps {
  services: ServiceContext;
  queues: Queues;
  log: Logger;
  publicUrl: string;
  /** Seconds from the `/approve` delivery to the certificate being stored. */
  observeSigning?: (seconds: number) => void;
}

/**
 * Signs an approved request and queues its report on the ticket: the PEM comment first, then
 * the label and closing in one write (no reaction: the comment answers the `/approve`). Signing
 * is idempotent (`alreadySigned`), so a worker that dies after signing and before queueing the
 * report re-runs this job harmlessly, and the report's job id keeps it to one comment.
 */
export function processSigning(deps: SigningDeps) {
  return async (job: Job<SigningJob>): Promise<{ outcome: string }> => {
    const data = job.data;
    const log = deps.log.child({ job: job.id, requestId: data.requestId, delivery: data.deliveryId });
    const approver = { kind: 'approver' as const, login: data.approver.login, githubId: data.approver.id };
    const result = await approveRequest(deps.services, approver, data.requestId, {
      csrSha256: data.csrSha256,
      commentId: data.commentId,
      deliveryId: data.deliveryId,
    });
    if (!result.ok) {
      const [first] = result.failures;
      log.info({ failures: result.failures }, `approval not carried out: ${first?.code}`);
      const body =
        first?.code === 'csr_changed'
          ? csrChangedComment({ requestId: data.requestId })
          : refusalReply({
              commentId: data.commentId,
              commenter: data.approver.login,
              reason: 'not_an_approver',
              message: result.failures.map((f) => f.message).join('; '),
            });
      const kind = first?.code === 'csr_changed' ? 'csr-changed' : 'refusal';
      const key = kind === 'csr-changed' ? data.requestId : String(data.commentId);
      await addTicketUpdate(deps.queues, ticketUpdateId(kind, key), {
        ticket: data.ticket,
        operations: [{ op: 'comment', kind, key, body }],
        receivedAt: data.receivedAt,
      });
      return { outcome: first?.code ?? 'refused' };
    }
    if (!result.value.alreadySigned) deps.observeSigning?.((Date.now() - data.receivedAt) / 1000);
    // The certificate and its line's facts come with the approval: no second read.
    const certificate = result.value.issued;
    if (!certificate) throw new Error(`request ${data.requestId} is signed but its certificate is missing`);
    const body = approvedComment({
      requestId: data.requestId,
      approver: data.approver.login,
      ...certificateFacts(certificate),
      dashboardUrl: dashboardUrl(deps.publicUrl, certificate.connector, certificate.version),
    });
    await addTicketUpdate(deps.queues, ticketUpdateId('approved', data.requestId), {
      ticket: data.ticket,
      operations: [{ op: 'comment', kind: 'approved', key: data.requestId, body }],
      receivedAt: data.receivedAt,
      // The certificate first; the label and closing (one write) after other tickets' certificates.
      followUp: {
        jobId: `${ticketUpdateId('approved', data.requestId)}-after`,
        operations: [closeAs(LABELS.approved, 'completed')],
      },
    });
    await promoteApproval(deps.queues, data.requestId);
    log.info({ serial: certificate.serial }, 'request approved and signed');
    return { outcome: result.value.alreadySigned ? 'already_signed' : 'signed' };
  };
}
