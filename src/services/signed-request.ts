import {
  certificateForRequest,
  consentFor,
  type CertificateRow,
  type RequestRow,
} from '../db/repositories/certificates.ts';
import type { ServiceContext } from './context.ts';

/** What is said of a request that was signed without asking anyone (a renewal on consent). */
export interface SignedRequest {
  certificate: CertificateRow;
  /** The consent of its line, when one is recorded. */
  consent: { approver: string; approvedAt: Date } | undefined;
}

/**
 * The certificate of a signed request and the consent it was signed on. A signed request
 * without a certificate is a bug, and throws.
 */
export async function signedRequest(
  ctx: Pick<ServiceContext, 'db'>,
  request: Pick<RequestRow, 'id' | 'lineId'>,
): Promise<SignedRequest> {
  const certificate = await certificateForRequest(ctx.db, request.id);
  const consent = await consentFor(ctx.db, request.lineId);
  if (!certificate) throw new Error(`signed request ${request.id} has no certificate`);
  return {
    certificate,
    consent: consent ? { approver: consent.approverLogin, approvedAt: consent.approvedAt } : undefined,
  };
}
