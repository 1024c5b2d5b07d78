import { eq } from 'drizzle-orm';
import { appendAudit } from '../db/repositories/audit.ts';
import { findLineById } from '../db/repositories/catalog.ts';
import { certificates } from '../db/schema.ts';
import { describeActor, supplierScope, type Actor } from './actor.ts';
import { nameOfActor } from './actor-name.ts';
import type { ServiceContext } from './context.ts';
import { certificateView, type CertificateView } from './environments.ts';
import { failure, notFound, success, type Outcome } from './outcome.ts';

const SERIAL = /^[0-9a-f]{1,64}$/;

/**
 * Enables or disables a certificate (a supplier its own, Nedap support any). Disabling needs a
 * reason: it is what the audit log and the supplier's e-mail will say. Setting the state it
 * already has changes nothing and records nothing. A change has the CRL signed again.
 */
export async function setCertificateEnabled(
  ctx: ServiceContext,
  actor: Actor,
  serialInput: string,
  raw: { enabled?: unknown; reason?: unknown },
): Promise<Outcome<CertificateView>> {
  const serial = serialInput.trim().toLowerCase();
  if (typeof raw.enabled !== 'boolean') return failure('invalid_input', 'enabled must be true or false');
  const reason = typeof raw.reason === 'string' ? raw.reason.trim().slice(0, 1000) : '';
  if (!raw.enabled && reason === '') {
    return failure(
      'reason_required',
      'say why the certificate is disabled (e.g. "key shared with a third party")',
    );
  }
  if (!SERIAL.test(serial)) return notFound(`certificate ${serialInput}`);
  const at = ctx.now();
  let disabledId: string | undefined;
  let changed = false;
  // Who, as the e-mail and the answer name them: the supplier's name, not its id.
  let by = '';
  const outcome = await ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(certificates).where(eq(certificates.serial, serial)).for('update');
    const scope = supplierScope(actor);
    if (!row) return notFound(`certificate ${serial}`);
    if (scope) {
      const owner = await findLineById(tx, row.lineId);
      if (owner?.connector.supplierId !== scope) return notFound(`certificate ${serial}`);
    }
    if (row.enabled === raw.enabled) return success(certificateView(row));
    if (!raw.enabled) by = await nameOfActor(tx, actor);
    const [updated] = await tx
      .update(certificates)
      .set(
        raw.enabled
          ? { enabled: true, disabledAt: null, disabledReason: null }
          : { enabled: false, disabledAt: at, disabledReason: reason },
      )
      .where(eq(certificates.id, row.id))
      .returning();
    await appendAudit(tx, {
      actor: describeActor(actor),
      action: raw.enabled ? 'certificate.enabled' : 'certificate.disabled',
      subjectType: 'certificate',
      subjectId: serial,
      requestId: row.requestId,
      reason: reason || undefined,
    });
    changed = true;
    if (!raw.enabled) disabledId = row.id;
    return success(certificateView(updated!, by));
  });
  // The CRL first: it is what makes the change take effect at the gateways.
  if (outcome.ok && changed) {
    await ctx.crlRefresher?.certificateStatusChanged({ serial, enabled: raw.enabled, at });
  }
  if (outcome.ok && disabledId) {
    await ctx.notifier?.certificateDisabled({
      certificateId: disabledId,
      by,
      reason,
      at,
    });
  }
  return outcome;
}
