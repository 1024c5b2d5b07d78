import nodemailer from 'nodemailer';
import type { Logger } from '../log.ts';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Hands e-mails to the SMTP server, or only logs them when none is configured. */
export interface Mailer {
  /** `sent` once the server accepted it, `logged` without SMTP_URL. Throws nodemailer's errors. */
  send(mail: OutgoingMail): Promise<'sent' | 'logged'>;
  close(): void;
}

/**
 * The mailer of SMTP_URL (a nodemailer transport URL) with MAIL_FROM as sender; without
 * SMTP_URL, messages are written to the log instead (recipient, subject and text), which is
 * what a development machine wants.
 */
export function createMailer(
  settings: { smtpUrl: string | undefined; from: string; connectionTimeoutMs?: number },
  log: Logger,
): Mailer {
  if (!settings.smtpUrl) {
    return {
      send(mail) {
        log.info(
          { to: mail.to, subject: mail.subject, text: mail.text },
          'e-mail (SMTP_URL unset, so logged)',
        );
        return Promise.resolve('logged');
      },
      close: () => undefined,
    };
  }
  const timeout = settings.connectionTimeoutMs ?? 30_000;
  const transport = nodemailer.createTransport({
    url: settings.smtpUrl,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    async send(mail) {
      await transport.sendMail({ from: settings.from, ...mail });
      return 'sent';
    },
    close: () => transport.close(),
  };
}
