import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { withPrimalityTest } from '../ca/key-primality.ts';
import { parseCsr, type ParsedCsr } from '../ca/parse-csr.ts';
import { toPem } from '../ca/pem.ts';
import { judgeCsr } from '../core/csr-policy.ts';
import { NO_CONSENT_MESSAGE } from '../core/renewal-policy.ts';
import { normaliseCustomerCode } from '../core/customer-code.ts';
import { NEW, transition } from '../core/request-state.ts';
import type { Transaction } from '../db/database.ts';
import { retryOnUniqueViolation } from '../db/errors.ts';
import type { AuditEntry } from '../db/repositories/audit.ts';
import { findLine, type LineRow } from '../db/repositories/catalog.ts';
import { consentFor, type RequestRow } from '../db/repositories/certificates.ts';
import { certificateForCsr } from '../db/repositories/renewal.ts';
import { writeUpload, type NewRequest } from '../db/repositories/uploads.ts';
import { certificateRequests, environmentLines } from '../db/schema.ts';
import { describeActor, supplierScope, type Actor } from './actor.ts';
import type { ServiceContext } from './context.ts';
import { certificateView } from './environments.ts';
import {
  certificateValues,
  issue,
  issuedAudit,
  newCertificateView,
  subjectText,
  type Origin,
  type RequestResult,
} from './issuing.ts';
import { failure, notFound, success, type Outcome } from './outcome.ts';

export interface LineAddress {
  technicalName: string;
  version: string;
  customerCode: string;
}

export interface UploadOptions {
  /**
   * When the line already waits for approval of this very CSR, answer with that request instead
   * of superseding it (a ticket checked twice, e.g. on its `opened` and `labeled` events, must
   * not ask the approvers twice).
   */
  keepIdenticalWaiting?: boolean;
  /**
   * When the line already has an enabled certificate signed from this very CSR after the
   * certificate with this id (the one being renewed), answer with it instead of judging the CSR
   * again (which would say key_reused): an EST client that lost the answer and sends the same
   * CSR again gets the same certificate. Looked up inside the retry, so the loser of a race
   * between two such requests answers the winner's certificate.
   */
  answerSameCsrAfter?: string;
  /**
   * Renewal never asks anyone: a CSR that would wait for approval is refused with `no_consent`
   * and nothing is written (no request, nothing superseded).
   */
  neverWait?: boolean;
}

/**
 * Uploads a CSR on a line. The policy runs with the database's knowledge of earlier keys; a
 * refused CSR is kept (state `invalid`, with its violations) so the tab can show why. A valid
 * one is signed at once on a development line or a line with consent (renewal), and otherwise
 * waits for approval, superseding an older waiting request on the same line.
 *
 * No lock is taken on the line: uploads on one line run side by side. The database keeps the
 * invariants (one waiting request per line, one certificate per key); a transaction that loses
 * such a race is run again and then sees the winner (superseding it, or answering key_reused).
 */
export async function uploadCsr(
  ctx: ServiceContext,
  actor: Actor,
  where: LineAddress,
  csr: string | Buffer,
  origin: Origin = {},
  options: UploadOptions = {},
): Promise<Outcome<RequestResult>> {
  const parsed = await withPrimalityTest(parseCsr(csr));
  const stored = storedCsr(parsed);
  const customerCode = normaliseCustomerCode(where.customerCode);
  return retryOnUniqueViolation(async () => {
    // Reads outside any transaction: lines, certificates and consents are only ever added, and
    // what a concurrent upload adds meanwhile is caught by the unique constraints (and a retry).
    const publicKeySha256 = parsed.ok ? parsed.facts.publicKeySha256 : undefined;
    const found = await findLine(ctx.db, {
      ...where,
      customerCode,
      supplierId: supplierScope(actor),
      publicKeySha256,
    });
    if (!found || (actor.kind === 'certificate' && actor.lineId !== found.line.id))
      return notFound(`environment ${customerCode} of ${where.technicalName} ${where.version}`);
    const { connector, version, line, supplier, keyHistory } = found;
    if (options.answerSameCsrAfter && parsed.ok) {
      const earlier = await certificateForCsr(
        ctx.db,
        line.id,
        parsed.facts.fingerprintSha256,
        options.answerSameCsrAfter,
      );
      if (earlier)
        return success({
          request: { id: earlier.requestId, state: 'signed' as const },
          certificate: certificateView(earlier),
        });
    }
    const knownKeys = new Map(publicKeySha256 && keyHistory ? [[publicKeySha256, keyHistory]] : []);
    const verdict = judgeCsr(parsed, {
      minRsaBits: ctx.minRsaBits,
      connector: connector.technicalName,
      customerCode: line.customerCode,
      knownKeys,
    });
    const hasConsent =
      verdict.ok && line.kind !== 'development' ? Boolean(await consentFor(ctx.db, line.id)) : false;
    const next = transition(NEW, { type: 'uploaded', kind: line.kind, valid: verdict.ok, hasConsent });
    if (!next.ok) throw new Error(next.message);
    if (options.neverWait && next.state === 'awaiting_approval')
      return failure('no_consent', NO_CONSENT_MESSAGE);

    const requestId = randomUUID();
    const issued = next.effects.includes('sign') && parsed.ok ? await issue(ctx, parsed) : undefined;
    const state = issued ? ('signed' as const) : next.state;
    const request: NewRequest = {
      id: requestId,
      lineId: line.id,
      csrPem: stored,
      subject: parsed.ok ? subjectText(parsed) : null,
      csrSha256: parsed.ok ? parsed.facts.fingerprintSha256 : null,
      publicKeySha256: parsed.ok ? parsed.facts.publicKeySha256 : null,
      state,
      errors: verdict.violations,
      ticket: origin.ticket,
    };
    const audit: AuditEntry[] = [
      {
        actor: describeActor(actor),
        action: `request.${next.state === 'invalid' ? 'refused' : 'uploaded'}`,
        subjectType: 'request',
        subjectId: requestId,
        requestId,
        deliveryId: origin.deliveryId,
        details: {
          customerCode: line.customerCode,
          state,
          csrSha256: request.csrSha256,
          ...(verdict.ok ? {} : { errors: verdict.violations.map((v) => v.code) }),
        },
      },
    ];
    const certificate = issued ? certificateValues(requestId, line.id, issued) : undefined;
    if (certificate) audit.push(issuedAudit(actor, certificate, origin));

    if (line.kind === 'development' || next.state === 'invalid') {
      // Nothing waits on a development line and a refused CSR supersedes nothing: one statement.
      await writeUpload(ctx.db, { request, certificate, audit });
    } else {
      const kept = await ctx.db.transaction(async (tx) => {
        if (options.keepIdenticalWaiting && state === 'awaiting_approval') {
          // Serialise with other uploads on this line, so that two checks of one ticket at the
          // same moment see each other's request instead of superseding it.
          await tx
            .select({ id: environmentLines.id })
            .from(environmentLines)
            .where(eq(environmentLines.id, line.id))
            .for('update');
          const waiting = await waitingRequest(tx, line.id);
          if (waiting && waiting.csrSha256 === request.csrSha256) return waiting;
        }
        const superseded = await supersedeWaiting(tx, actor, line, origin);
        await writeUpload(tx, { request, certificate, audit: [...superseded, ...audit] });
        return undefined;
      });
      if (kept) return success({ request: { id: kept.id, state: kept.state } });
    }
    if (!verdict.ok) return { ok: false as const, failures: verdict.violations };
    if (certificate?.id) {
      await ctx.notifier?.certificateIssued({
        certificateId: certificate.id,
        how: line.kind === 'development' ? 'development' : 'renewal',
        facts: {
          ...certificate,
          supplier: supplier.name,
          supplierEmail: supplier.email,
          connector: connector.technicalName,
          version: version.version,
          customerCode: line.customerCode,
        },
      });
    }
    return success({
      request: { id: requestId, state },
      ...(certificate ? { certificate: newCertificateView(certificate) } : {}),
    });
  }, lostRace(ctx));
}

/**
 * What is kept of an upload: only its CSR, armoured again from the DER that was read (so the
 * same PEM whatever the file's encoding, line ends or text around the block), or '' when no
 * CSR could be read. Never the upload itself: it may hold a private key sent by mistake, or
 * bytes that are no text at all. (Migration 0008 cut earlier uploads down to their first CSR
 * block; a stored CSR is still read back by `parseCsr` the same way.)
 */
export function storedCsr(parsed: ParsedCsr): string {
  const der = parsed.ok ? parsed.der : parsed.csrDer;
  return der ? toPem('CERTIFICATE REQUEST', der) : '';
}

/** Lost races are normal under load; at debug level they show how often it happens. */
const lostRace = (ctx: ServiceContext) => (constraint: string | undefined) =>
  ctx.log.debug({ constraint }, 'an upload lost a race on a unique constraint; running it again');

async function supersedeWaiting(
  tx: Transaction,
  actor: Actor,
  line: LineRow,
  origin: Origin,
): Promise<AuditEntry[]> {
  const superseded = await tx
    .update(certificateRequests)
    .set({ state: 'superseded', updatedAt: new Date() })
    .where(and(eq(certificateRequests.lineId, line.id), eq(certificateRequests.state, 'awaiting_approval')))
    .returning({ id: certificateRequests.id });
  return superseded.map(({ id }) => ({
    actor: describeActor(actor),
    action: 'request.superseded',
    subjectType: 'request' as const,
    subjectId: id,
    requestId: id,
    deliveryId: origin.deliveryId,
    reason: 'a newer CSR was uploaded on this line',
  }));
}

async function waitingRequest(tx: Transaction, lineId: string): Promise<RequestRow | undefined> {
  const [row] = await tx
    .select()
    .from(certificateRequests)
    .where(and(eq(certificateRequests.lineId, lineId), eq(certificateRequests.state, 'awaiting_approval')))
    .for('update');
  return row;
}
