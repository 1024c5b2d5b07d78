/**
 * Why a renewal did not happen, with a stable code: a refusal the server sent (its code), or
 * something the client found (unreachable server, TLS, an answer it will not use).
 */
export interface RenewalFailure {
  code: string;
  /** The HTTP status of a refusal, when there was an answer. */
  status?: number;
  /** The server's own message for its code, shown after ours (already one line, bounded). */
  serverMessage?: string;
  /** What the client saw (an error code, a host name, what was wrong in the answer). */
  detail?: string;
}

const DASHBOARD = 'upload a new CSR on the dashboard (and install the certificate it gives)';

/** What the operator must do, for each code the renewal server answers (see the EST contract). */
const SERVER_CODES: Readonly<Record<string, string>> = {
  client_certificate_required:
    'the server received no usable client certificate: check that --cert and --key are the pair ons-certs issued',
  certificate_unknown:
    'the server does not know this certificate (not issued by its CA, or not in its records): check --url points at the ons-certs that issued it, or ' +
    DASHBOARD,
  certificate_disabled: `the certificate was disabled (leaked?): ${DASHBOARD}`,
  certificate_expired: `the certificate has expired, and renewal over mTLS is impossible once it has: ${DASHBOARD}`,
  no_consent:
    "the organisation's consent for this line is no longer in force, and renewal never asks anyone: " +
    `${DASHBOARD}; the organisation approves it on a ticket again`,
  line_withdrawn:
    "the certificate's line (environment) was withdrawn: there is nothing to renew on it; ask the organisation and Nedap support",
  not_current:
    'a newer certificate is already on this line (renewed from another machine, by an earlier run whose answer was lost, or from a CSR uploaded on the dashboard): if this machine has its key, install it from the dashboard; if not, ' +
    DASHBOARD,
  certificate_not_yet_valid:
    "the server's clock says the certificate is not valid yet: check this machine's and the server's clocks, then run again",
  key_reused:
    "the server has seen the new key before (key_reused): run again to make another key; if it happens again, the machine's random number generator is suspect",
  key_compromised: 'the server knows the new key from a disabled certificate: run again to make another key',
  key_blocked: 'the server has blocked the new key: run again to make another key',
  subject_mismatch:
    "the server says the new CSR's subject differs from the certificate's: ons-certs renew copies it exactly, so report this with both certificates",
  too_many_attempts: 'the server is limiting requests from this address: try again later',
};

/** What the operator must do, for each failure the client finds itself. */
const CLIENT_CODES: Readonly<Record<string, string>> = {
  server_unreachable:
    'cannot reach the renewal server: check --url (host and port), DNS and firewalls, and that the server has its renewal listener (RENEW_PORT) on',
  timeout:
    'the renewal server did not answer in time: try again later; if it persists, check --url and the network',
  tls_untrusted:
    "the server's TLS certificate is not trusted: pass --ca with the CA certificate that signed the server's certificate (wrong --ca?), or check --url",
  tls_name_mismatch:
    "the server's TLS certificate is not for the host name in --url: use the host name the certificate names",
  tls_handshake_failed:
    'the TLS handshake failed: the server may have refused the client certificate, or it is not an ons-certs renewal listener; check --url, --cert and --key',
  server_error:
    'the renewal server failed (a 5xx answer): try again later; if it persists, tell Nedap support',
  unexpected_answer:
    'the server answered something that is not the EST answer ons-certs expects: check --url points at the renewal listener',
  answer_rejected:
    'the certificate the server sent does not pass the checks, so it was not installed: check --url and --ca, and tell Nedap support',
  ca_unavailable:
    "the CA certificate could not be fetched from the server's /.well-known/est/cacerts: pass --ca with the ons-certs CA certificate",
};

/** A policy refusal of the new CSR (422) that the server's code alone does not explain. */
const POLICY =
  "the server's CSR policy refused the new CSR: tell Nedap support (ons-certs renew makes RSA-4096 keys and copies the subject)";

/** One line that says what happened and what the operator must do. */
export function failureMessage(failure: RenewalFailure): string {
  const known = SERVER_CODES[failure.code] ?? CLIENT_CODES[failure.code];
  const generic =
    failure.status === 422
      ? POLICY
      : failure.status !== undefined && failure.status >= 500
        ? CLIENT_CODES.server_error!
        : `the server refused the renewal${failure.status ? ` (HTTP ${failure.status})` : ''}`;
  const parts = [`${failure.code}: ${known ?? generic}`];
  if (failure.detail) parts.push(`(${failure.detail})`);
  if (failure.serverMessage) parts.push(`— server: ${failure.serverMessage}`);
  return parts.join(' ');
}

/**
 * Whether the server's answer to a re-enrolment may have been lost: the request may have
 * reached it and a certificate been issued. Then a retry sends the same CSR again (the server
 * answers the same certificate, not `key_reused`), instead of a new key, which would leave an
 * issued certificate nobody holds. A refusal with a code is a definite answer.
 */
export function answerMayBeLost(code: string): boolean {
  return (
    code === 'timeout' ||
    code === 'server_error' ||
    code === 'server_unreachable' ||
    code === 'unexpected_answer'
  );
}
