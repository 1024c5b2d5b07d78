import { eq } from 'drizzle-orm';
import { dashboardUrl } from '../bot/bot-deps.ts';
import type { Notifier } from '../core/notifier.ts';
import { findLineById } from '../db/repositories/catalog.ts';
import type { Database } from '../db/database.ts';
import { certificateRequests, suppliers } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { jobIds, type Queues } from '../queue/queues.ts';
import { certificateFacts } from '../services/certificate-facts.ts';
import { certificateDisabledMail } from '../templates/mail/disabled.ts';
import { certificateIssuedMail } from '../templates/mail/issued.ts';
import { requestRejectedMail } from '../templates/mail/rejected.ts';
import { factsOf } from './expiry-scan.ts';
import { queueMail } from './mail-queue.ts';

/**
 * Tells suppliers by e-mail what happened to their certificates: issued, rejected, disabled.
 * Each message's id is derived from the event, so a service call that runs twice (a retried job)
 * queues one message. A failure to queue is logged, never thrown: the change itself stands.
 */
export function createMailNotifier(deps: {
  db: Database;
  queues: Queues;
  log: Logger;
  publicUrl: string;
}): Notifier {
  const guarded = async (what: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      deps.log.error({ err: error }, `the ${what} e-mail could not be queued (is Redis answering?)`);
    }
  };
  const link = (of: { connector: string; version: string }) =>
    dashboardUrl(deps.publicUrl, of.connector, of.version);
  const facts = async (certificateId: string) => {
    const certificate = await certificateFacts(deps.db, certificateId);
    if (!certificate) throw new Error(`certificate ${certificateId} does not exist`);
    return { certificate, view: { ...factsOf(certificate), dashboardUrl: link(certificate) } };
  };
  return {
    certificateIssued: (event) =>
      guarded('certificate issued', async () => {
        const { certificate, view } = event.facts
          ? { certificate: event.facts, view: { ...factsOf(event.facts), dashboardUrl: link(event.facts) } }
          : await facts(event.certificateId);
        await queueMail(deps.db, deps.queues, {
          id: jobIds.mail('issued', certificate.serial),
          kind: 'certificate_issued',
          certificateId: event.certificateId,
          to: certificate.supplierEmail,
          mail: certificateIssuedMail({ ...view, how: event.how, approver: event.approver }),
        });
      }),
    requestRejected: (event) =>
      guarded('request rejected', async () => {
        const [request] = await deps.db
          .select()
          .from(certificateRequests)
          .where(eq(certificateRequests.id, event.requestId));
        const found = request ? await findLineById(deps.db, request.lineId) : undefined;
        if (!request || !found) throw new Error(`request ${event.requestId} does not exist`);
        const [supplier] = await deps.db
          .select()
          .from(suppliers)
          .where(eq(suppliers.id, found.connector.supplierId));
        if (!supplier) throw new Error(`the supplier of request ${event.requestId} does not exist`);
        await queueMail(deps.db, deps.queues, {
          id: jobIds.mail('rejected', event.requestId),
          kind: 'request_rejected',
          to: supplier.email,
          mail: requestRejectedMail({
            supplier: supplier.name,
            connector: found.connector.technicalName,
            version: found.version.version,
            customerCode: found.line.customerCode,
            reason: event.reason,
            approver: event.approver,
            dashboardUrl: dashboardUrl(deps.publicUrl, found.connector.technicalName, found.version.version),
            ticket: request.ticket ?? undefined,
          }),
        });
      }),
    certificateDisabled: (event) =>
      guarded('certificate disabled', async () => {
        const { certificate, view } = await facts(event.certificateId);
        await queueMail(deps.db, deps.queues, {
          // One message per time it is disabled: it may be enabled and disabled again.
          id: jobIds.mail('disabled', `${certificate.serial}-${event.at.getTime()}`),
          kind: 'certificate_disabled',
          certificateId: certificate.id,
          to: certificate.supplierEmail,
          mail: certificateDisabledMail({ ...view, by: event.by, reason: event.reason, at: event.at }),
        });
      }),
  };
}
