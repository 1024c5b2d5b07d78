import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { CertificateAuthority } from './certificate-authority.ts';
import { toPem } from './pem.ts';

/** One revoked certificate on the CRL. */
export interface CrlEntry {
  /** Lower-case hex, as stored and shown (the certificate's positive serial). */
  serial: string;
  /** When it was disabled: the CRL's revocationDate. */
  revokedAt: Date;
}

export interface CrlFields {
  /** The cRLNumber: strictly greater than every earlier CRL of this CA. */
  number: number;
  thisUpdate: Date;
  nextUpdate: Date;
}

/**
 * RFC 5280 reason certificateHold: the only reason a certificate may leave the CRL again, which
 * is what enabling a disabled certificate does.
 */
export const CRL_REASON_CERTIFICATE_HOLD = 6;

const SHA256_WITH_RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const CRL_NUMBER_OID = '2.5.29.20';

// @peculiar/x509 signs through WebCrypto; Node's is backed by OpenSSL and runs on the thread pool.
const crypto = webcrypto as unknown as NonNullable<Parameters<typeof x509.X509CrlGenerator.create>[1]>;

/**
 * A v2 CRL signed by the CA with sha256WithRSAEncryption, as DER: the CA's subject (byte for
 * byte) as issuer, thisUpdate/nextUpdate, the cRLNumber and the authority key identifier
 * (the CA's subject key identifier), and one entry per certificate with its revocation time and
 * the reason certificateHold. Pure apart from the signature.
 */
export async function buildCrl(
  entries: readonly CrlEntry[],
  ca: Pick<CertificateAuthority, 'subjectDer' | 'keyIdentifier' | 'privateKey'>,
  fields: CrlFields,
): Promise<Buffer> {
  if (!Number.isSafeInteger(fields.number) || fields.number < 0) {
    throw new Error(`a CRL number must be a non-negative integer (got ${fields.number})`);
  }
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: new x509.Name(ca.subjectDer),
      thisUpdate: wholeSeconds(fields.thisUpdate),
      nextUpdate: wholeSeconds(fields.nextUpdate),
      signingAlgorithm: SHA256_WITH_RSA,
      signingKey: await signingKeyOf(ca.privateKey),
      extensions: [
        new x509.AuthorityKeyIdentifierExtension(ca.keyIdentifier.toString('hex')),
        new x509.Extension(CRL_NUMBER_OID, false, derInteger(BigInt(fields.number))),
      ],
      entries: entries.map((entry) => ({
        serialNumber: entry.serial,
        revocationDate: wholeSeconds(entry.revokedAt),
        reason: CRL_REASON_CERTIFICATE_HOLD,
      })),
    },
    crypto,
  );
  return Buffer.from(crl.rawData);
}

/** The PEM that OpenSSL, nginx and Node read: label `X509 CRL` (not @peculiar/x509's `CRL`). */
export function crlPem(der: Uint8Array): string {
  return toPem('X509 CRL', der);
}

/** What a gateway needs to know about a CRL it was given, after checking its signature. */
export interface CrlFacts {
  number: number | undefined;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** Serials (lower-case hex) on the list. */
  serials: string[];
}

/**
 * Reads a CRL (DER or PEM of either label) and checks that `caCertificatePem` signed it; throws
 * when it is not a CRL or the signature does not verify.
 */
export async function readVerifiedCrl(crl: Uint8Array | string, caCertificatePem: string): Promise<CrlFacts> {
  const parsed = new x509.X509Crl(
    typeof crl === 'string' ? crl.replace(/-----(BEGIN|END) X509 CRL-----/g, '-----$1 CRL-----') : crl,
  );
  const issuer = new x509.X509Certificate(caCertificatePem);
  if (!(await parsed.verify({ publicKey: issuer }, crypto))) {
    throw new Error(`the CRL is not signed by ${issuer.subject}`);
  }
  const numberExtension = parsed.getExtension(CRL_NUMBER_OID);
  return {
    number: numberExtension ? Number(readDerInteger(Buffer.from(numberExtension.value))) : undefined,
    thisUpdate: parsed.thisUpdate,
    nextUpdate: parsed.nextUpdate,
    serials: parsed.entries.map((entry) => entry.serialNumber.toLowerCase().replace(/^0+(?=.)/, '')),
  };
}

const keys = new WeakMap<object, Promise<webcrypto.CryptoKey>>();

/** The CA key as a WebCrypto key, imported once per key object. */
function signingKeyOf(privateKey: CertificateAuthority['privateKey']): Promise<webcrypto.CryptoKey> {
  let key = keys.get(privateKey);
  if (!key) {
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    key = webcrypto.subtle.importKey('pkcs8', pkcs8, SHA256_WITH_RSA, false, ['sign']);
    keys.set(privateKey, key);
  }
  return key;
}

/** DER times have whole seconds; a CRL made twice from the same fields is the same CRL. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** A DER INTEGER (minimal two's complement, here never negative). */
function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let content = Buffer.from(hex, 'hex');
  if (content[0]! & 0x80) content = Buffer.concat([Buffer.from([0]), content]);
  return Buffer.concat([Buffer.from([0x02, content.length]), content]);
}

function readDerInteger(der: Buffer): bigint {
  if (der[0] !== 0x02 || der[1]! > 0x7f || der.length !== der[1]! + 2) {
    throw new Error('the cRLNumber is not a short DER INTEGER');
  }
  return BigInt(`0x${der.subarray(2).toString('hex') || '0'}`);
}
