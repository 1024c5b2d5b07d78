import { asc, eq } from 'drizzle-orm';
import { normaliseCustomerCode } from '../core/customer-code.ts';
import { findLine } from '../db/repositories/catalog.ts';
import {
  currentCertificates,
  requestById,
  type CertificateRow,
  type RequestRow,
} from '../db/repositories/certificates.ts';
import { certificateRequests, connectors, environmentLines, versions } from '../db/schema.ts';
import { supplierScope, type Actor } from './actor.ts';
import type { ServiceContext } from './context.ts';
import { notFound, success, type Outcome } from './outcome.ts';
import type { LineAddress } from './upload-csr.ts';

export type { RequestRow };

/** One request by its id, without a supplier scope; undefined when there is none. */
export function loadRequest(ctx: Pick<ServiceContext, 'db'>, id: string): Promise<RequestRow | undefined> {
  return requestById(ctx.db, id);
}

/** The current certificate of a line, for "Download PEM file". */
export async function currentCertificate(
  ctx: ServiceContext,
  actor: Actor,
  where: LineAddress,
): Promise<Outcome<CertificateRow>> {
  const customerCode = normaliseCustomerCode(where.customerCode);
  const found = await findLine(ctx.db, { ...where, customerCode, supplierId: supplierScope(actor) });
  if (!found) return notFound(`environment ${customerCode} of ${where.technicalName} ${where.version}`);
  const certificate = (await currentCertificates(ctx.db, [found.line.id])).get(found.line.id);
  if (!certificate) return notFound(`a certificate for ${customerCode}`);
  return success(certificate);
}

export interface RequestListing {
  id: string;
  state: RequestRow['state'];
  technicalName: string;
  version: string;
  customerCode: string;
  subject: string | null;
  csrSha256: string | null;
  ticket: string | null;
  createdAt: string;
}

/** Requests in one state, oldest first: what Nedap support looks at. */
export async function listRequests(
  ctx: ServiceContext,
  state: RequestRow['state'],
): Promise<RequestListing[]> {
  const rows = await ctx.db
    .select({
      request: certificateRequests,
      technicalName: connectors.technicalName,
      version: versions.version,
      customerCode: environmentLines.customerCode,
    })
    .from(certificateRequests)
    .innerJoin(environmentLines, eq(certificateRequests.lineId, environmentLines.id))
    .innerJoin(versions, eq(environmentLines.versionId, versions.id))
    .innerJoin(connectors, eq(versions.connectorId, connectors.id))
    .where(eq(certificateRequests.state, state))
    .orderBy(asc(certificateRequests.createdAt))
    .limit(1000);
  return rows.map(({ request, technicalName, version, customerCode }) => ({
    id: request.id,
    state: request.state,
    technicalName,
    version,
    customerCode,
    subject: request.subject,
    csrSha256: request.csrSha256,
    ticket: request.ticket,
    createdAt: request.createdAt.toISOString(),
  }));
}
