import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { readChildren, readTlv, slice } from './der.ts';
import { addOneCalendarYear, drawSerial, keyIdentifier, signTbs } from './issue-certificate.ts';
import { findPemBlocks, toPem } from './pem.ts';

/** The loaded CA: what issuing, the CRL and `/ca.pem` need. */
export interface CertificateAuthority {
  /** The CA certificate (and any chain above it) as PEM, served at /ca.pem. */
  chainPem: string;
  certificate: X509Certificate;
  /** The CA's subject Name, byte for byte: the issuer of everything it signs. */
  subjectDer: Buffer;
  /** The CA's subject key identifier, used as authority key identifier. */
  keyIdentifier: Buffer;
  privateKey: KeyObject;
}

/** Where a CA lives on disk. */
export interface CaFiles {
  certPath: string;
  keyPath: string;
  passphrase?: string;
}

/** A CA problem an operator must fix; the message says how. */
export class CaError extends Error {
  override name = 'CaError';
}

const CA_YEARS = 10;

/** The development CA's files under DATA_DIR. */
export function developmentCaFiles(dataDir: string): CaFiles {
  return { certPath: join(dataDir, 'ca', 'ca.pem'), keyPath: join(dataDir, 'ca', 'ca.key') };
}

/** Loads a CA and checks it can sign client certificates; throws `CaError` saying what to fix. */
export async function loadCertificateAuthority(
  files: CaFiles,
  now = new Date(),
): Promise<CertificateAuthority> {
  const [certText, keyText] = await Promise.all([
    readFile(files.certPath, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new CaError(`cannot read the CA certificate ${files.certPath}: ${e.code ?? e.message}`);
    }),
    readFile(files.keyPath, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new CaError(`cannot read the CA key ${files.keyPath}: ${e.code ?? e.message}`);
    }),
  ]);
  const certificates = findPemBlocks(certText).filter((b) => b.label === 'CERTIFICATE' && b.der);
  const first = certificates[0]?.der;
  if (!first) throw new CaError(`${files.certPath} holds no PEM CERTIFICATE`);
  const certificate = new X509Certificate(first);
  const privateKey = readPrivateKey(keyText, files);

  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new CaError(
      `the CA key ${files.keyPath} is ${privateKey.asymmetricKeyType}; ons-certs signs with RSA keys`,
    );
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new CaError(`the CA key ${files.keyPath} does not belong to the certificate ${files.certPath}`);
  }
  if (!certificate.ca) {
    throw new CaError(`${files.certPath} is not a CA certificate (basicConstraints CA:TRUE is missing)`);
  }
  if (new Date(certificate.validTo).getTime() <= now.getTime()) {
    throw new CaError(
      `the CA certificate ${files.certPath} expired on ${certificate.validTo}: make or configure a new CA`,
    );
  }
  return {
    chainPem: certificates.map((c) => toPem('CERTIFICATE', c.der!)).join(''),
    certificate,
    subjectDer: subjectOf(first),
    keyIdentifier: subjectKeyIdentifierOf(certificate) ?? keyIdentifier(spkiOf(privateKey)),
    privateKey,
  };
}

function readPrivateKey(pem: string, files: CaFiles): KeyObject {
  const encrypted = pem.includes('ENCRYPTED');
  if (encrypted && !files.passphrase) {
    throw new CaError(`the CA key ${files.keyPath} is encrypted: set CA_KEY_PASSPHRASE`);
  }
  try {
    return createPrivateKey(files.passphrase ? { key: pem, passphrase: files.passphrase } : { key: pem });
  } catch {
    throw new CaError(
      encrypted
        ? `CA_KEY_PASSPHRASE does not decrypt the CA key ${files.keyPath}`
        : `the CA key ${files.keyPath} is not a PEM private key`,
    );
  }
}

/** TBSCertificate's subject: the sixth field when the version is present (v3). */
function subjectOf(certDer: Buffer): Buffer {
  const tbs = readChildren(certDer, readTlv(certDer, 0))[0]!;
  const fields = readChildren(certDer, tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  return slice(certDer, fields[4 + offset]!);
}

function subjectKeyIdentifierOf(certificate: X509Certificate): Buffer | undefined {
  const parsed = forge.pki.certificateFromAsn1(forge.asn1.fromDer(certificate.raw.toString('binary')));
  const extension = parsed.getExtension('subjectKeyIdentifier') as
    { subjectKeyIdentifier?: string } | undefined;
  return extension?.subjectKeyIdentifier ? Buffer.from(extension.subjectKeyIdentifier, 'hex') : undefined;
}

function spkiOf(key: KeyObject): Buffer {
  return createPublicKey(key).export({ format: 'der', type: 'spki' });
}

export interface CreateCaOptions {
  commonName: string;
  now?: Date;
  randomBytes: (size: number) => Buffer;
}

/** Makes a new self-signed RSA-4096 CA certificate and key, valid ten years. */
export async function createCaMaterial(
  options: CreateCaOptions,
): Promise<{ certPem: string; privateKey: KeyObject }> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 4096,
    publicExponent: 65537,
  });
  const spkiDer = publicKey.export({ format: 'der', type: 'spki' });
  const now = options.now ?? new Date();
  const cert = forge.pki.createCertificate();
  cert.serialNumber = drawSerial(options.randomBytes);
  cert.validity.notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);
  let notAfter = now;
  for (let i = 0; i < CA_YEARS; i++) notAfter = addOneCalendarYear(notAfter);
  cert.validity.notAfter = notAfter;
  cert.publicKey = forge.pki.publicKeyFromAsn1(forge.asn1.fromDer(spkiDer.toString('binary')));
  const name = [
    { shortName: 'CN', value: options.commonName },
    { shortName: 'O', value: 'ons-certs' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  const ski = keyIdentifier(spkiDer);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier', subjectKeyIdentifier: ski.toString('hex') },
    { name: 'authorityKeyIdentifier', keyIdentifier: ski.toString('binary') },
  ]);
  cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  const tbs = (
    forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }
  ).getTBSCertificate(cert);
  const der = signTbs({ privateKey }, Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary'));
  return { certPem: toPem('CERTIFICATE', der), privateKey };
}

/** The key as PEM: PKCS#8, encrypted with AES-256-CBC when a passphrase is given. */
export function privateKeyPem(key: KeyObject, passphrase?: string): string {
  return key
    .export(
      passphrase
        ? { format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase }
        : { format: 'pem', type: 'pkcs8' },
    )
    .toString();
}

/**
 * Writes a CA's files: the key with mode 0600 in a directory of mode 0700. Without `force`,
 * existing files are never touched: each file is written under a temporary name and then
 * hard-linked into place, which is atomic and refuses to overwrite. The certificate is
 * published after the key, so a process that sees the certificate sees a complete pair, and
 * two processes racing to create the development CA cannot mix their halves.
 */
export async function writeCaFiles(
  files: CaFiles,
  material: { certPem: string; privateKey: KeyObject },
  force: boolean,
): Promise<void> {
  await mkdir(dirname(files.keyPath), { recursive: true, mode: 0o700 });
  await mkdir(dirname(files.certPath), { recursive: true, mode: 0o700 });
  const keyPem = privateKeyPem(material.privateKey, files.passphrase);
  if (force) {
    await writeAtomically(files.keyPath, keyPem, 0o600);
    await writeAtomically(files.certPath, material.certPem, 0o644);
    return;
  }
  const temporaryKey = temporaryName(files.keyPath);
  const temporaryCert = temporaryName(files.certPath);
  try {
    await writeFile(temporaryKey, keyPem, { mode: 0o600 });
    await writeFile(temporaryCert, material.certPem, { mode: 0o644 });
    await publish(temporaryKey, files.keyPath);
    try {
      await publish(temporaryCert, files.certPath);
    } catch (error) {
      await rm(files.keyPath, { force: true });
      throw error;
    }
  } finally {
    await rm(temporaryKey, { force: true });
    await rm(temporaryCert, { force: true });
  }
}

async function publish(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CaError(`${to} already exists: use --force to replace the CA`);
    }
    throw error;
  }
}

/** Whether either of the CA's files is already there. */
export function caFilesExist(files: CaFiles): boolean {
  return existsSync(files.keyPath) || existsSync(files.certPath);
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const temporary = temporaryName(path);
  await writeFile(temporary, content, { mode });
  await rename(temporary, path);
}

/** Unique per call, not only per process: one process may create two CAs at once. */
function temporaryName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}
