import type { EnvironmentKind } from './customer-code.ts';

/**
 * Who may renew over the EST listener (RFC 7030 simplereenroll): the holder of a certificate we
 * issued that is still in force. These are the pure decisions; the listener gathers the facts
 * (what TLS said, the database row) and answers the refusal with its status and code.
 */

/** A refusal of the client before its CSR is looked at: 401 (who are you?) or 403 (not you). */
export interface RenewalRefusal {
  status: 401 | 403;
  code:
    | 'client_certificate_required'
    | 'certificate_unknown'
    | 'certificate_disabled'
    | 'certificate_expired'
    | 'certificate_not_yet_valid'
    | 'line_withdrawn'
    | 'no_consent';
  message: string;
}

/** What TLS saw of the client's certificate (the handshake accepts any, so that we can say why). */
export interface PresentedCertificate {
  /** False when the client sent no certificate. */
  present: boolean;
  /** OpenSSL's verdict: true when the chain to our CA and the validity period both check out. */
  authorized: boolean;
  /** OpenSSL's reason when not authorized, e.g. CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_LEAF_SIGNATURE. */
  authorizationError?: string | undefined;
  /** Our own check that our CA signed it (OpenSSL reports only one problem of several). */
  signedByOurCa: boolean;
}

/** The database's record of that certificate (found by serial, with the same fingerprint). */
export interface KnownCertificate {
  enabled: boolean;
  notBefore: Date;
  notAfter: Date;
  /** Absent when the certificate's line is gone. */
  line?: { kind: EnvironmentKind; customerCode: string; hasConsent: boolean } | undefined;
}

/** OpenSSL's reasons that concern only the validity period: the chain itself is fine then. */
const PERIOD_ONLY = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

const DASHBOARD =
  'upload a new CSR on the line in the dashboard (PUT .../environments/{customerCode}/csr) and install the certificate it gives';

/** The message of `no_consent`, also told by the upload when it would have to ask for approval. */
export const NO_CONSENT_MESSAGE =
  "this line has no consent of the organisation in force, and renewal never asks anyone: upload a new CSR on the line in the dashboard and open a ticket, so that the organisation's approvers can approve it";

/**
 * Whether the client may renew: undefined when it may, else the refusal. The checks come in the
 * order a person would fix them: send a certificate, send ours, one that is enabled, in its
 * validity period, on a line that is still there and still has consent.
 */
export function judgeRenewer(
  presented: PresentedCertificate,
  known: KnownCertificate | undefined,
  now: Date,
): RenewalRefusal | undefined {
  if (!presented.present) {
    return {
      status: 401,
      code: 'client_certificate_required',
      message:
        'renewal needs the current client certificate: send it with its key (curl --cert client.pem --key client.key, ons-certs renew --cert --key)',
    };
  }
  // A chain problem other than the dates, or no signature of ours, or no row of ours: not ours.
  const chainOk = presented.authorized || PERIOD_ONLY.has(presented.authorizationError ?? '');
  if (!chainOk || !presented.signedByOurCa || !known) {
    return {
      status: 401,
      code: 'certificate_unknown',
      message:
        'this client certificate was not issued by this ons-certs CA (or is not in its records): send the certificate ons-certs issued for the line, with its key',
    };
  }
  if (!known.enabled) {
    return {
      status: 403,
      code: 'certificate_disabled',
      message: `this certificate is disabled and may not renew itself: ${DASHBOARD}`,
    };
  }
  if (now.getTime() > known.notAfter.getTime()) {
    return {
      status: 403,
      code: 'certificate_expired',
      message: `this certificate expired on ${known.notAfter.toISOString()}; an expired certificate cannot renew itself: ${DASHBOARD}`,
    };
  }
  if (now.getTime() < known.notBefore.getTime()) {
    return {
      status: 403,
      code: 'certificate_not_yet_valid',
      message: `this certificate is valid from ${known.notBefore.toISOString()} only: check the clock of this server and try again then`,
    };
  }
  if (!known.line) {
    return {
      status: 403,
      code: 'line_withdrawn',
      message: "this certificate's environment line no longer exists: there is nothing to renew on it",
    };
  }
  if (known.line.kind !== 'development' && !known.line.hasConsent) {
    return { status: 403, code: 'no_consent', message: NO_CONSENT_MESSAGE };
  }
  return undefined;
}
