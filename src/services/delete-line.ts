import { count, eq } from 'drizzle-orm';
import { normaliseCustomerCode } from '../core/customer-code.ts';
import { appendAudit } from '../db/repositories/audit.ts';
import { findLine } from '../db/repositories/catalog.ts';
import { certificateRequests, certificates, consents, environmentLines } from '../db/schema.ts';
import { describeActor, supplierScope, type Actor } from './actor.ts';
import type { ServiceContext } from './context.ts';
import { failure, notFound, success, type Outcome } from './outcome.ts';
import type { LineAddress } from './upload-csr.ts';

/**
 * Deletes a line that was added by mistake (a mistyped customer code). Only a line that never
 * had a certificate: one that had one is kept with its history (`line_has_certificates`; a
 * certificate that must stop working is disabled). Its requests go with it (refused, rejected,
 * expired or superseded uploads, or one that waits without a ticket yet), except while an
 * organisation is being asked on a ticket (`line_has_ticket`): their approvers must not be
 * asked about a line that no longer exists. The audit log keeps the line's id and what its
 * requests were; the audit entries of those requests stay as they are.
 *
 * The line is locked first: an upload on it at the same moment waits and then finds it gone
 * (404), or was committed first and its certificate or ticket is seen here.
 */
export async function deleteEnvironment(
  ctx: ServiceContext,
  actor: Actor,
  where: LineAddress,
): Promise<Outcome<{ customerCode: string }>> {
  const customerCode = normaliseCustomerCode(where.customerCode);
  return ctx.db.transaction(async (tx) => {
    const found = await findLine(tx, { ...where, customerCode, supplierId: supplierScope(actor) });
    if (!found) return notFound(`environment ${customerCode} of ${where.technicalName} ${where.version}`);
    const { line } = found;
    await tx
      .select({ id: environmentLines.id })
      .from(environmentLines)
      .where(eq(environmentLines.id, line.id))
      .for('update');
    const [issued] = await tx
      .select({ n: count() })
      .from(certificates)
      .where(eq(certificates.lineId, line.id));
    const [consent] = await tx.select({ id: consents.id }).from(consents).where(eq(consents.lineId, line.id));
    if ((issued?.n ?? 0) > 0 || consent) {
      return failure(
        'line_has_certificates',
        `${customerCode} has had a certificate, so it is kept with its history; a line can only be ` +
          'deleted when it never had one (disable a certificate that must stop working)',
      );
    }
    const requests = await tx
      .select({
        id: certificateRequests.id,
        state: certificateRequests.state,
        ticket: certificateRequests.ticket,
      })
      .from(certificateRequests)
      .where(eq(certificateRequests.lineId, line.id))
      .for('update');
    const asked = requests.find(
      (r) => (r.state === 'awaiting_approval' && r.ticket) || r.state === 'approved',
    );
    if (asked) {
      return failure(
        'line_has_ticket',
        `the CSR on ${customerCode} waits for the organisation's approval on ticket ${asked.ticket ?? '(unknown)'}: ` +
          'a line is kept while an organisation is asked about it; ask them to reject it on the ticket ' +
          '(or wait until it expires), then delete the line',
      );
    }
    await tx.delete(certificateRequests).where(eq(certificateRequests.lineId, line.id));
    await tx.delete(environmentLines).where(eq(environmentLines.id, line.id));
    await appendAudit(tx, {
      actor: describeActor(actor),
      action: 'line.deleted',
      subjectType: 'line',
      subjectId: line.id,
      details: {
        technicalName: found.connector.technicalName,
        version: found.version.version,
        customerCode,
        kind: line.kind,
        requests: requests.map((r) => ({
          id: r.id,
          state: r.state,
          ...(r.ticket ? { ticket: r.ticket } : {}),
        })),
      },
    });
    return success({ customerCode });
  });
}
