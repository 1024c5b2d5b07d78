import { X509Certificate, type KeyObject } from 'node:crypto';
import { DerError } from '../ca/der.ts';
import { findPemBlocks } from '../ca/pem.ts';
import { holdsKey, subjectDerOf, type CurrentPair } from './current-pair.ts';
import { readCertsOnly } from './pkcs7.ts';

export type Checked<T> = { ok: true; value: T } | { ok: false; detail: string };

/** How far the new certificate's notBefore may lie ahead of our clock (clocks differ). */
const CLOCK_SKEW_MS = 5 * 60_000;
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * The CA certificates among `candidates` that issued the current certificate: its issuer's
 * name and a signature that verifies with the CA's key. Only those anchor the new one.
 */
export function issuersOf(
  current: X509Certificate,
  candidates: readonly X509Certificate[],
): X509Certificate[] {
  return candidates.filter((ca) => ca.ca && current.checkIssued(ca) && current.verify(ca.publicKey));
}

/** The certificates of a PEM bundle (`--ca`), or of a certs-only answer (cacerts). */
export function certificatesOfPem(text: string): X509Certificate[] {
  return findPemBlocks(text)
    .filter((b) => b.label === 'CERTIFICATE' && b.der)
    .flatMap((b) => {
      try {
        return [new X509Certificate(b.der!)];
      } catch {
        return [];
      }
    });
}

/**
 * Checks a simplereenroll answer before anything is written: exactly one certificate, issued
 * and signed by one of `anchors` (the CA that issued the current certificate, as trusted via
 * --ca or fetched over verified TLS), for the new key, with the current subject byte for byte,
 * valid now and not shorter than the current one, a client certificate and not a CA.
 */
export function checkNewCertificate(
  body: string,
  context: { current: CurrentPair; newKey: KeyObject; anchors: readonly X509Certificate[]; now: Date },
): Checked<X509Certificate> {
  let ders: Buffer[];
  try {
    ders = readCertsOnly(body);
  } catch (error) {
    return { ok: false, detail: error instanceof DerError ? error.message : 'the answer cannot be read' };
  }
  if (ders.length !== 1)
    return { ok: false, detail: `the answer holds ${ders.length} certificates, not exactly one` };
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(ders[0]!);
  } catch {
    return { ok: false, detail: 'the certificate in the answer cannot be read' };
  }
  const { current, newKey, anchors, now } = context;
  if (!anchors.some((ca) => certificate.checkIssued(ca) && certificate.verify(ca.publicKey))) {
    return { ok: false, detail: 'the new certificate is not signed by the CA that issued the current one' };
  }
  if (!holdsKey(certificate, newKey))
    return { ok: false, detail: 'the new certificate is not for the new key' };
  if (!subjectDerOf(certificate.raw).equals(current.subjectDer)) {
    return { ok: false, detail: 'the new certificate has another subject than the current one' };
  }
  if (certificate.ca) return { ok: false, detail: 'the new certificate is a CA certificate' };
  const usages = certificate.keyUsage;
  if (usages && !usages.includes(CLIENT_AUTH))
    return { ok: false, detail: 'the new certificate is not for client authentication' };
  const notBefore = Date.parse(certificate.validFrom);
  const notAfter = Date.parse(certificate.validTo);
  if (notBefore > now.getTime() + CLOCK_SKEW_MS)
    return { ok: false, detail: `the new certificate is valid only from ${certificate.validFrom}` };
  if (notAfter <= now.getTime())
    return { ok: false, detail: `the new certificate expired on ${certificate.validTo}` };
  // Earlier than the current one would only make the next run renew again (a loop); the same
  // second is fine (a forced renewal right after issuing).
  if (notAfter < current.notAfter.getTime()) {
    return {
      ok: false,
      detail: `the new certificate expires (${certificate.validTo}) before the current one`,
    };
  }
  return { ok: true, value: certificate };
}
