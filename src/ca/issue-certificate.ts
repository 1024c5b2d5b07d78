import { createHash, sign, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import type { CertificateAuthority } from './certificate-authority.ts';
import { readChildren, readTlv, slice } from './der.ts';
import { toPem } from './pem.ts';

/** What issuing produced: everything the database and the supplier need. */
export interface IssuedCertificate {
  pem: string;
  der: Buffer;
  /** Lower-case hex without separators, 32 digits. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 over the certificate's DER, lower-case hex. */
  fingerprintSha256: string;
  /** The subject as OpenSSL prints it in RFC 2253 form, for logs and pages. */
  subject: string;
}

export interface IssueOptions {
  /** The signing time; injected so tests and renewals are deterministic. */
  now: Date;
  /** A CSPRNG; injected only so tests can check what happens to unlucky draws. */
  randomBytes: (size: number) => Buffer;
  /** Published in the certificate when set (PUBLIC_URL/crl). */
  crlDistributionPoint?: string;
}

/** How far the start of validity is moved back, for clocks that run slightly behind ours. */
export const BACKDATE_SECONDS = 60;

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

/**
 * Builds and signs a client certificate for a CSR that has passed the policy. Only the
 * subject and the public key come from the CSR (byte for byte); every extension is chosen
 * here. forge builds the TBSCertificate; Node's crypto does the RSA private-key operation,
 * which is ~40x faster than forge's pure-JS signing.
 */
export function issueCertificate(
  ca: CertificateAuthority,
  csr: { subjectDer: Buffer; spkiDer: Buffer },
  options: IssueOptions,
): IssuedCertificate {
  const serial = drawSerial(options.randomBytes);
  const notBefore = new Date(Math.floor(options.now.getTime() / 1000) * 1000 - BACKDATE_SECONDS * 1000);
  const notAfter = addOneCalendarYear(new Date(Math.floor(options.now.getTime() / 1000) * 1000));

  const cert = forge.pki.createCertificate();
  cert.serialNumber = serial;
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.publicKey = forge.pki.publicKeyFromAsn1(forge.asn1.fromDer(csr.spkiDer.toString('binary')));
  cert.siginfo.algorithmOid = SHA256_WITH_RSA;
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier', subjectKeyIdentifier: keyIdentifier(csr.spkiDer).toString('hex') },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.keyIdentifier.toString('binary') },
    ...(options.crlDistributionPoint
      ? [{ name: 'cRLDistributionPoints', altNames: [{ type: 6, value: options.crlDistributionPoint }] }]
      : []),
  ]);
  const der = signTbs(ca, buildTbs(cert, ca.subjectDer, csr.subjectDer, csr.spkiDer));
  return {
    pem: toPem('CERTIFICATE', der),
    der,
    serial,
    notBefore,
    notAfter,
    fingerprintSha256: createHash('sha256').update(der).digest('hex'),
    subject: new X509Certificate(der).subject.split('\n').join(', '),
  };
}

/**
 * 16 random bytes with the top bit cleared: positive, and exactly 16 bytes in DER. A leading
 * zero byte would make the DER INTEGER non-minimal, so such a draw is taken again.
 */
export function drawSerial(randomBytes: (size: number) => Buffer): string {
  for (;;) {
    const bytes = Buffer.from(randomBytes(16));
    bytes[0]! &= 0x7f;
    if (bytes[0] !== 0) return bytes.toString('hex');
  }
}

/** One calendar year later; 29 February rolls to 1 March, as a calendar does. */
export function addOneCalendarYear(date: Date): Date {
  const later = new Date(date.getTime());
  later.setUTCFullYear(later.getUTCFullYear() + 1);
  return later;
}

/** RFC 5280 method 1: SHA-1 over the subjectPublicKey BIT STRING's value. */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const spki = readTlv(spkiDer, 0);
  const bitString = readChildren(spkiDer, spki)[1];
  if (!bitString) throw new Error('SubjectPublicKeyInfo without a key');
  return createHash('sha1')
    .update(spkiDer.subarray(bitString.contentStart + 1, bitString.end))
    .digest();
}

/** forge's TBS with issuer, subject and key replaced by the exact bytes they must be. */
function buildTbs(
  cert: forge.pki.Certificate,
  issuerDer: Buffer,
  subjectDer: Buffer,
  spkiDer: Buffer,
): Buffer {
  // @types/node-forge 1.3.14 lacks getTBSCertificate (stack notes).
  const getTbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 })
    .getTBSCertificate;
  const tbs = getTbs(cert);
  const fields = tbs.value as forge.asn1.Asn1[];
  fields[3] = forge.asn1.fromDer(issuerDer.toString('binary'));
  fields[5] = forge.asn1.fromDer(subjectDer.toString('binary'));
  fields[6] = forge.asn1.fromDer(spkiDer.toString('binary'));
  return Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
}

/** Certificate ::= SEQUENCE { tbs, sha256WithRSAEncryption, BIT STRING signature }. */
export function signTbs(ca: Pick<CertificateAuthority, 'privateKey'>, tbsDer: Buffer): Buffer {
  const signature = sign('sha256', tbsDer, ca.privateKey);
  const { asn1 } = forge;
  const algorithm = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(SHA256_WITH_RSA).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
  ]);
  const tail = Buffer.from(
    asn1.toDer(algorithm).getBytes() +
      asn1
        .toDer(
          asn1.create(
            asn1.Class.UNIVERSAL,
            asn1.Type.BITSTRING,
            false,
            '\x00' + signature.toString('binary'),
          ),
        )
        .getBytes(),
    'binary',
  );
  return derSequence(Buffer.concat([tbsDer, tail]));
}

function derSequence(content: Buffer): Buffer {
  const length = content.length;
  const header =
    length < 0x80
      ? Buffer.from([0x30, length])
      : length < 0x100
        ? Buffer.from([0x30, 0x81, length])
        : length < 0x10000
          ? Buffer.from([0x30, 0x82, length >> 8, length & 0xff])
          : Buffer.from([0x30, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff]);
  return Buffer.concat([header, content]);
}

export { slice };
