import type { IssuedCertificateFacts } from '../core/notifier.ts';
import { dashboardUrl } from '../bot/bot-deps.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { addTicketUpdate, ticketUpdateId } from '../queue/enqueue.ts';
import { jobIds, type Queues } from '../queue/queues.ts';
import { certificatesDueForNotice, type CertificateFacts } from '../services/certificate-facts.ts';
import { expiryReminderComment } from '../templates/expiry-comment.ts';
import { expiredMail, expiryReminderMail } from '../templates/mail/expiry.ts';
import { queueMails } from './mail-queue.ts';

export interface ExpiryScanDeps {
  db: Database;
  queues: Queues;
  log: Logger;
  publicUrl: string;
  /** REMINDER_DAYS: how long before expiry the reminder goes out. */
  reminderDays: number;
}

export interface ExpiryScanResult {
  reminders: number;
  expired: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The daily expiry scan: one e-mail per certificate that expires within REMINDER_DAYS (an
 * "expired" notice instead when the scan comes too late, e.g. after downtime), and a comment on
 * the ticket it came from. What was noticed is recorded in the database and every job id is
 * derived from the certificate, so several scans, workers or retries tell each supplier once.
 */
export async function runExpiryScan(deps: ExpiryScanDeps, now: Date): Promise<ExpiryScanResult> {
  const horizon = new Date(now.getTime() + deps.reminderDays * DAY_MS);
  const due = await certificatesDueForNotice(deps.db, horizon);
  const result: ExpiryScanResult = { reminders: 0, expired: 0 };
  for (let i = 0; i < due.length; i += BATCH) {
    const batch = due.slice(i, i + BATCH).map((certificate) => {
      const expired = certificate.notAfter.getTime() <= now.getTime();
      const link = dashboardUrl(deps.publicUrl, certificate.connector, certificate.version);
      const facts = { ...factsOf(certificate), dashboardUrl: link, now };
      return {
        certificate,
        expired,
        link,
        message: {
          id: jobIds.mail(expired ? 'expired' : 'expiry', certificate.serial),
          kind: expired ? ('expired' as const) : ('expiry_reminder' as const),
          certificateId: certificate.id,
          to: certificate.supplierEmail,
          mail: expired ? expiredMail(facts) : expiryReminderMail(facts),
        },
      };
    });
    const fresh = await queueMails(
      deps.db,
      deps.queues,
      batch.map((b) => b.message),
    );
    for (const [j, { certificate, expired, link }] of batch.entries()) {
      if (!fresh[j]) continue;
      result[expired ? 'expired' : 'reminders']++;
      if (!expired && certificate.ticket && certificate.ticketInstallationId !== null) {
        await remindOnTicket(deps, certificate, link, now);
      }
    }
  }
  if (due.length > 0) deps.log.info(result, 'expiry scan: suppliers told');
  return result;
}

/** Notices written and queued per statement. */
const BATCH = 500;

/** The mail templates' view of a certificate. */
export function factsOf(certificate: IssuedCertificateFacts) {
  return {
    supplier: certificate.supplier,
    connector: certificate.connector,
    version: certificate.version,
    customerCode: certificate.customerCode,
    commonName: certificate.commonName,
    serial: certificate.serial,
    fingerprintSha256: certificate.fingerprintSha256,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
}

async function remindOnTicket(deps: ExpiryScanDeps, certificate: CertificateFacts, link: string, now: Date) {
  const match = /^([^/]+)\/([^#]+)#(\d+)$/.exec(certificate.ticket ?? '');
  if (!match || certificate.ticketInstallationId === null) return;
  const body = expiryReminderComment({
    serial: certificate.serial,
    commonName: certificate.commonName,
    notAfter: certificate.notAfter,
    now,
    dashboardUrl: link,
  });
  await addTicketUpdate(deps.queues, ticketUpdateId('expiry-reminder', certificate.serial), {
    ticket: {
      installationId: certificate.ticketInstallationId,
      owner: match[1] ?? '',
      repo: match[2] ?? '',
      number: Number(match[3]),
    },
    operations: [{ op: 'comment', kind: 'expiry-reminder', key: certificate.serial, body }],
  });
}
