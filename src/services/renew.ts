import { createHash, X509Certificate } from 'node:crypto';
import { certificateSubject } from '../ca/certificate-subject.ts';
import { parseCsr } from '../ca/parse-csr.ts';
import { formatSubject } from '../core/distinguished-name.ts';
import { judgeRenewer, type KnownCertificate, type PresentedCertificate } from '../core/renewal-policy.ts';
import {
  certificatePem,
  newerWithSubject,
  renewableCertificate,
  type RenewableCertificate,
} from '../db/repositories/renewal.ts';
import type { Actor } from './actor.ts';
import type { ServiceContext } from './context.ts';
import type { Failure } from './outcome.ts';
import { uploadCsr } from './upload-csr.ts';

/** What the TLS layer hands over: the client's certificate (DER, when sent) and OpenSSL's verdict. */
export interface TlsPeer {
  raw: Buffer | undefined;
  authorized: boolean;
  authorizationError: string | undefined;
}

/** A renewal's answer: the new certificate, or refusals with the HTTP status they are told with. */
export type RenewalResult =
  | { ok: true; serial: string; pem: string; renewedSerial: string }
  | { ok: false; status: 401 | 403 | 422; failures: Failure[]; serial?: string | undefined };

/**
 * EST simplereenroll (RFC 7030 §4.2.2): the holder of a certificate we issued, still enabled, in
 * its validity period, on a line that may be renewed without asking (development, or consent in
 * force), sends a CSR with the same subject and a new key; it is uploaded on that line like a
 * dashboard upload (same policy, audit, e-mail, one certificate per key), with the certificate
 * as the actor. The same CSR sent again answers the certificate it already got.
 */
export async function renewCertificate(
  ctx: ServiceContext,
  peer: TlsPeer,
  csr: Buffer,
): Promise<RenewalResult> {
  const who = await identify(ctx, peer);
  const refusal = judgeRenewer(who.presented, who.known && knownFacts(who.known), ctx.now());
  if (refusal) {
    return refused(refusal.status, refusal.code, refusal.message, who.serial);
  }
  const { certificate, line, version, connector } = who.known!;
  // judgeRenewer refused a certificate without its line.
  if (!line || !version || !connector) throw new Error('a renewable certificate without its line');

  const parsed = parseCsr(csr);
  if (parsed.ok) {
    const wanted = currentSubject(certificate);
    const asked = formatSubject(parsed.facts.subject);
    if (asked !== wanted) {
      return refused(
        422,
        'subject_mismatch',
        `the CSR's subject (${asked}) differs from the certificate's (${wanted}): a renewal keeps the subject; ` +
          'make the CSR with the subject of the current certificate (ons-certs renew does)',
        certificate.serial,
      );
    }
    const newer = await newerWithSubject(ctx.db, certificate, parsed.facts.fingerprintSha256);
    if (newer) {
      return refused(
        403,
        'not_current',
        `a newer certificate with this subject is on the line (serial ${newer.serial}, issued ` +
          `${newer.notBefore.toISOString()}): renew with that one, or upload a new CSR on the line in the dashboard`,
        certificate.serial,
      );
    }
  }
  // A CSR that cannot be read goes to the upload too: it is refused (malformed_csr) and kept
  // as the dashboard keeps a refused upload, so the tab shows why the renewal failed.
  const actor: Actor = {
    kind: 'certificate',
    serial: certificate.serial,
    supplierId: connector.supplierId,
    lineId: line.id,
  };
  const uploaded = await uploadCsr(
    ctx,
    actor,
    { technicalName: connector.technicalName, version: version.version, customerCode: line.customerCode },
    csr,
    {},
    { answerSameCsrAfter: certificate.id, neverWait: true },
  );
  if (!uploaded.ok) {
    const codes = new Set(uploaded.failures.map((f) => f.code));
    if (codes.has('no_consent')) return { ok: false, status: 403, failures: uploaded.failures };
    if (codes.has('not_found')) {
      return refused(
        403,
        'line_withdrawn',
        "this certificate's environment line no longer exists: there is nothing to renew on it",
        certificate.serial,
      );
    }
    return { ok: false, status: 422, failures: uploaded.failures, serial: certificate.serial };
  }
  const issued = uploaded.value.certificate;
  if (!issued) throw new Error('a renewal upload left no certificate');
  const pem = await certificatePem(ctx.db, issued.serial);
  if (!pem) throw new Error(`certificate ${issued.serial} is not in the database`);
  return { ok: true, serial: issued.serial, pem, renewedSerial: certificate.serial };
}

interface Identified {
  presented: PresentedCertificate;
  known: RenewableCertificate | undefined;
  serial: string | undefined;
}

/** Who the client is: what TLS saw, our own signature check, and our record of the certificate. */
async function identify(ctx: ServiceContext, peer: TlsPeer): Promise<Identified> {
  const none = { present: false, authorized: false, signedByOurCa: false };
  if (!peer.raw || peer.raw.length === 0)
    return { presented: { ...none }, known: undefined, serial: undefined };
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(peer.raw);
  } catch {
    return { presented: { ...none, present: true }, known: undefined, serial: undefined };
  }
  // OpenSSL names one problem of several (an expired certificate of another CA may be reported
  // as expired only), so whether our CA signed it is checked here too.
  const signedByOurCa =
    certificate.checkIssued(ctx.ca.certificate) && certificate.verify(ctx.ca.certificate.publicKey);
  // As the service writes serials: lower-case hex of the whole bytes.
  const serial = certificate.serialNumber.toLowerCase();
  const fingerprint = createHash('sha256').update(peer.raw).digest('hex');
  const known = signedByOurCa ? await renewableCertificate(ctx.db, serial, fingerprint) : undefined;
  return {
    presented: {
      present: true,
      authorized: peer.authorized,
      authorizationError: peer.authorizationError,
      signedByOurCa,
    },
    known,
    serial: known ? serial : undefined,
  };
}

function knownFacts(found: RenewableCertificate): KnownCertificate {
  const { certificate, line } = found;
  return {
    enabled: certificate.enabled,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    line: line
      ? { kind: line.kind, customerCode: line.customerCode, hasConsent: found.hasConsent }
      : undefined,
  };
}

/** The current certificate's subject as text, read from the certificate itself. */
function currentSubject(row: { pem: string; subject: string }): string {
  try {
    return formatSubject(certificateSubject(Buffer.from(new X509Certificate(row.pem).raw)));
  } catch {
    return row.subject;
  }
}

function refused(
  status: 401 | 403 | 422,
  code: string,
  message: string,
  serial: string | undefined,
): RenewalResult {
  return { ok: false, status, failures: [{ code, message }], serial };
}
