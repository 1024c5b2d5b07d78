import { createHash, sign } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import type { CsrFacts } from '../core/csr-policy.ts';
import type { CertificateAuthority } from './certificate-authority.ts';
import { encodeTlv as der, readChildren, readTlv } from './der.ts';
import { toPem } from './pem.ts';
import { encodeName } from './subject-der.ts';

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

/** What a certificate takes from a CSR: the subject's attributes and the public key. */
export interface CsrForCertificate {
  facts: Pick<CsrFacts, 'subject'>;
  /** The SubjectPublicKeyInfo as in the CSR (the parser checks it is canonical DER). */
  spkiDer: Buffer;
}

/**
 * Builds and signs a client certificate for a CSR that has passed the policy. Only the
 * subject and the public key come from the CSR; every extension is chosen here. The subject
 * is encoded here from the attributes the policy judged (same order, same string types), not
 * copied from the CSR: the certificate then holds nothing we did not read and check, and for a
 * CSR the parser accepts it comes out byte for byte as the supplier signed it (the parser
 * re-encodes the subject the same way and refuses a CSR whose subject would differ). The TBSCertificate is assembled from node-forge's ASN.1 encodings around the exact
 * subject, issuer and key bytes; Node's crypto does the RSA private-key operation, which is
 * ~40x faster than forge's pure-JS signing and dominates the cost of issuing.
 */
export function issueCertificate(
  ca: CertificateAuthority,
  csr: CsrForCertificate,
  options: IssueOptions,
): IssuedCertificate {
  const draft = buildTbs(ca, csr, options);
  return finish(draft, assemble(draft.tbs, sign('sha256', draft.tbs, ca.privateKey)));
}

/**
 * The same certificate, with the RSA private-key operation on libuv's thread pool instead of
 * the calling thread: a service keeps answering while it signs, and on a machine with more
 * than one core several signatures run at once.
 */
export async function issueCertificateInPool(
  ca: CertificateAuthority,
  csr: CsrForCertificate,
  options: IssueOptions,
): Promise<IssuedCertificate> {
  const draft = buildTbs(ca, csr, options);
  const signature = await signInPool('sha256', draft.tbs, ca.privateKey);
  return finish(draft, assemble(draft.tbs, signature));
}

const signInPool = promisify(sign);

interface Draft {
  tbs: Buffer;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

function buildTbs(ca: CertificateAuthority, csr: CsrForCertificate, options: IssueOptions): Draft {
  const serial = drawSerial(options.randomBytes);
  const signedAt = Math.floor(options.now.getTime() / 1000) * 1000;
  const notBefore = new Date(signedAt - BACKDATE_SECONDS * 1000);
  const notAfter = addOneCalendarYear(new Date(signedAt));
  const tbs = der(0x30, [
    VERSION_3,
    encode(asn1.create(UNIVERSAL, asn1.Type.INTEGER, false, forge.util.hexToBytes(serial))),
    SHA256_WITH_RSA_ALGORITHM,
    ca.subjectDer,
    der(0x30, [encodeTime(notBefore), encodeTime(notAfter)]),
    encodeName(csr.facts.subject),
    csr.spkiDer,
    clientExtensions(ca, keyIdentifier(csr.spkiDer), options.crlDistributionPoint),
  ]);
  return { tbs, serial, notBefore, notAfter };
}

function finish(draft: Draft, certificateDer: Buffer): IssuedCertificate {
  return {
    pem: toPem('CERTIFICATE', certificateDer),
    der: certificateDer,
    serial: draft.serial,
    notBefore: draft.notBefore,
    notAfter: draft.notAfter,
    fingerprintSha256: createHash('sha256').update(certificateDer).digest('hex'),
  };
}

const { asn1 } = forge;
const UNIVERSAL = asn1.Class.UNIVERSAL;

const encode = (node: forge.asn1.Asn1): Buffer => Buffer.from(asn1.toDer(node).getBytes(), 'binary');
const oid = (dotted: string): Buffer =>
  encode(asn1.create(UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes()));

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. */
function encodeTime(date: Date): Buffer {
  return date.getUTCFullYear() < 2050
    ? encode(asn1.create(UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date)))
    : encode(asn1.create(UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date)));
}

const VERSION_3 = der(0xa0, [encode(asn1.create(UNIVERSAL, asn1.Type.INTEGER, false, '\x02'))]);
const SHA256_WITH_RSA_ALGORITHM = der(0x30, [oid(SHA256_WITH_RSA), Buffer.from([0x05, 0x00])]);
const CRITICAL = Buffer.from([0x01, 0x01, 0xff]);

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return der(0x30, [oid(id), ...(critical ? [CRITICAL] : []), der(0x04, [value])]);
}

/** basicConstraints CA:FALSE (an empty SEQUENCE: FALSE is the default). */
const BASIC_CONSTRAINTS_NOT_CA = extension('2.5.29.19', true, der(0x30, []));
/** keyUsage digitalSignature (bit 0) + keyEncipherment (bit 2): 0b101 followed by 5 unused bits. */
const KEY_USAGE_CLIENT = extension('2.5.29.15', true, Buffer.from([0x03, 0x02, 0x05, 0xa0]));
/** extKeyUsage clientAuth. */
const EXTENDED_KEY_USAGE_CLIENT = extension('2.5.29.37', false, der(0x30, [oid('1.3.6.1.5.5.7.3.2')]));

/** The only extensions a client certificate gets; nothing from the CSR is ever copied. */
function clientExtensions(
  ca: CertificateAuthority,
  subjectKeyId: Buffer,
  crlUrl: string | undefined,
): Buffer {
  const crl = crlUrl
    ? [
        extension(
          '2.5.29.31',
          false,
          der(0x30, [der(0x30, [der(0xa0, [der(0xa0, [der(0x86, [Buffer.from(crlUrl)])])])])]),
        ),
      ]
    : [];
  return der(0xa3, [
    der(0x30, [
      BASIC_CONSTRAINTS_NOT_CA,
      KEY_USAGE_CLIENT,
      EXTENDED_KEY_USAGE_CLIENT,
      extension('2.5.29.14', false, der(0x04, [subjectKeyId])),
      extension('2.5.29.35', false, der(0x30, [der(0x80, [ca.keyIdentifier])])),
      ...crl,
    ]),
  ]);
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

/** Certificate ::= SEQUENCE { tbs, sha256WithRSAEncryption, BIT STRING signature }. */
export function signTbs(ca: Pick<CertificateAuthority, 'privateKey'>, tbsDer: Buffer): Buffer {
  return assemble(tbsDer, sign('sha256', tbsDer, ca.privateKey));
}

function assemble(tbsDer: Buffer, signature: Buffer): Buffer {
  return der(0x30, [tbsDer, SHA256_WITH_RSA_ALGORITHM, der(0x03, [Buffer.from([0x00]), signature])]);
}
