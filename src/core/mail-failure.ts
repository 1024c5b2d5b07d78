/** A failed attempt to hand an e-mail to the SMTP server, as nodemailer reports it. */
export interface MailFailureInput {
  /** The SMTP reply code, when the server answered (e.g. 421, 450, 550). */
  responseCode?: number | undefined;
  /** nodemailer's or Node's error code (e.g. ECONNECTION, ETIMEDOUT, EENVELOPE, EAUTH). */
  code?: string | undefined;
  message?: string | undefined;
}

export type MailFailureVerdict =
  { kind: 'transient'; reason: string } | { kind: 'permanent'; reason: string };

/**
 * Whether trying again later can help. A 4xx reply is the server saying "not now" (greylisting,
 * a full mailbox, too many connections); no answer at all is an outage. A 5xx reply is a refusal
 * that repeating will not change (unknown recipient, rejected content), and so are bad
 * credentials and an unusable address: those are recorded, never retried. Pure.
 */
export function classifyMailFailure(input: MailFailureInput): MailFailureVerdict {
  const said = input.message ? `: ${input.message.replace(/\s+/g, ' ').slice(0, 300)}` : '';
  const code = input.responseCode;
  if (code !== undefined && code >= 500 && code < 600) {
    return { kind: 'permanent', reason: `the mail server refused the message (${code})${said}` };
  }
  if (code !== undefined && code >= 400 && code < 500) {
    return { kind: 'transient', reason: `the mail server asked to try again later (${code})${said}` };
  }
  if (input.code === 'EAUTH') {
    return { kind: 'permanent', reason: `the mail server did not accept the credentials of SMTP_URL${said}` };
  }
  if (input.code === 'EENVELOPE') {
    return { kind: 'permanent', reason: `the sender or recipient address is not usable${said}` };
  }
  return {
    kind: 'transient',
    reason: `the mail server could not be reached (${input.code ?? 'no answer'})${said}`,
  };
}
