import { parseCsr } from '../ca/parse-csr.ts';
import { judgeCsr } from '../core/csr-policy.ts';
import type { InstallationTicket } from '../queue/jobs.ts';
import { addEnvironment } from '../services/environments.ts';
import { knownKeys } from '../services/known-keys.ts';
import { loadRequest, type RequestRow } from '../services/requests.ts';
import { latestRequestOnLine, requestWithCsr, ticketKey, type TicketSubject } from '../services/tickets.ts';
import { uploadCsr } from '../services/upload-csr.ts';
import type { BotDeps } from './bot-deps.ts';

export type Found = { ok: true; request: RequestRow } | { ok: false; problems: string[] };

/**
 * The request the ticket asks for: the CSR pasted in the ticket (uploaded on the line, which is
 * added when missing), or else the CSR last uploaded on the line in the dashboard.
 */
export async function findRequest(
  deps: BotDeps,
  ticket: InstallationTicket,
  subject: TicketSubject,
  where: { connector: string; version: string; customerCode: string },
  csr: string | undefined,
  deliveryId: string,
): Promise<Found> {
  const ctx = deps.services;
  const supplier = { kind: 'supplier' as const, supplierId: subject.supplier.id };
  if (csr === undefined) {
    const latest = subject.line ? await latestRequestOnLine(ctx, subject.line.id) : undefined;
    if (
      latest &&
      (latest.state === 'awaiting_approval' ||
        (latest.state === 'signed' && latest.ticket === ticketKey(ticket)))
    )
      return { ok: true, request: latest };
    return {
      ok: false,
      problems: [
        `no CSR is waiting for approval on ${where.customerCode} of ${where.connector} ${where.version}: ` +
          'paste the CSR under "CSR" in this ticket, or upload it on that line in the dashboard',
      ],
    };
  }
  const parsed = parseCsr(csr);
  const verdict = judgeCsr(parsed, {
    minRsaBits: ctx.minRsaBits,
    connector: subject.connector.technicalName,
    customerCode: where.customerCode,
    knownKeys: parsed.ok ? await knownKeys(ctx, parsed.facts.publicKeySha256) : new Map(),
  });
  const line = subject.line;
  // A CSR already asked for (or signed) from this ticket is the request, not a reused key.
  const earlier =
    line && parsed.ok ? await requestWithCsr(ctx, line.id, parsed.facts.fingerprintSha256) : undefined;
  if (earlier) return { ok: true, request: earlier };
  if (!verdict.ok) return { ok: false, problems: verdict.violations.map((v) => `CSR: ${v.message}`) };
  if (!line) {
    const added = await addEnvironment(
      ctx,
      supplier,
      { technicalName: where.connector, version: where.version },
      {
        customerCode: where.customerCode,
      },
    );
    if (!added.ok && added.failures.some((f) => f.code !== 'environment_exists'))
      return { ok: false, problems: added.failures.map((f) => f.message) };
  }
  const origin = { ticket: ticketKey(ticket), deliveryId };
  const lineAddress = {
    technicalName: where.connector,
    version: where.version,
    customerCode: where.customerCode,
  };
  const uploaded = await uploadCsr(ctx, supplier, lineAddress, csr, origin, { keepIdenticalWaiting: true });
  if (uploaded.ok) {
    const request = await loadRequest(ctx, uploaded.value.request.id);
    if (!request) throw new Error(`the upload from ticket ${ticketKey(ticket)} left no request`);
    return { ok: true, request };
  }
  // Another delivery for this ticket signed the same CSR a moment ago (key_reused): that is the one.
  if (uploaded.failures.every((f) => f.code === 'key_reused') && line && parsed.ok) {
    const raced = await requestWithCsr(ctx, line.id, parsed.facts.fingerprintSha256);
    if (raced) return { ok: true, request: raced };
  }
  return { ok: false, problems: uploaded.failures.map((f) => `CSR: ${f.message}`) };
}
