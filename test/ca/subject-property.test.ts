import { randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority } from '../../src/ca/certificate-authority.ts';
import { toPem } from '../../src/ca/pem.ts';
import { checkAndIssue } from '../../src/ca/sign-csr.ts';
import { unsafeCharacters } from '../../src/core/distinguished-name.ts';
import { loadTestCa, openssl, run, tempDir } from '../helpers/fixtures.ts';
import { fixtureKeys, OID, rawCsr, rawName, STRING, type RawAttribute } from '../helpers/raw-csr.ts';

/**
 * Item 6's property: for a few thousand valid subjects (random printable and UTF-8 values,
 * RFC 4514 specials and non-ASCII included, the seven attributes in any order), the CA issues a
 * certificate that OpenSSL parses, whose subject is byte for byte the CSR's, and that OpenSSL
 * and Node read back as the values the CSR was made with.
 */

const RUNS = 2000;
const line = { minRsaBits: 4096, connector: 'hr_integration', customerCode: 'TE1002' };
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

type Attribute = { type: string; oid: string; tag: number; value: string };

const specials = fc.constantFrom(...' ,+"\\<>;#=', 'é', 'ë', 'ß', '€', '漢', '😀', 'Å');
const ascii = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const anyCharacter = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });
const value = fc
  .string({ unit: fc.oneof(specials, ascii, anyCharacter), minLength: 1, maxLength: 40 })
  .filter((v) => v.trim() !== '' && unsafeCharacters(v).length === 0);
const noAt = fc.stringMatching(/^[!-?A-~]{1,12}$/);

/** A value in PrintableString when it fits and the coin says so, else in UTF8String. */
const directoryString = (type: keyof typeof OID) =>
  fc.tuple(value, fc.boolean()).map(([v, printable]): Attribute => ({
    type,
    oid: OID[type],
    tag: printable && PRINTABLE.test(v) ? STRING.printable : STRING.utf8,
    value: v,
  }));

const subject = fc
  .tuple(
    fc.stringMatching(/^[A-Za-z0-9_]{1,30}$/),
    directoryString('OU'),
    directoryString('O'),
    directoryString('L'),
    directoryString('ST'),
    fc.tuple(fc.stringMatching(/^[A-Za-z]{2}$/), fc.boolean()),
    fc.tuple(noAt, noAt, noAt),
  )
  .chain(([id, ou, o, l, st, [country, printableCountry], [local, host, tld]]) => {
    const rest: Attribute[] = [
      ou,
      o,
      l,
      st,
      { type: 'C', oid: OID.C, tag: printableCountry ? STRING.printable : STRING.utf8, value: country },
      { type: 'emailAddress', oid: OID.emailAddress, tag: STRING.ia5, value: `${local}@${host}.${tld}` },
    ];
    const cn: Attribute = { type: 'CN', oid: OID.CN, tag: STRING.utf8, value: `hr_integration-TE1002-${id}` };
    // Mostly CN first, as OpenSSL writes it, but any order must come through unchanged.
    return fc
      .shuffledSubarray(rest, { minLength: rest.length, maxLength: rest.length })
      .map((shuffled) => [cn, ...shuffled]);
  });

/**
 * OpenSSL's ESC_2253 escaping, as Node's X509Certificate#subject prints each value. (One quirk:
 * for a one-character value the last-character rule replaces the first-character one, so a lone
 * `#` is not escaped there; formatSubject does escape it, as RFC 4514 says.)
 */
function openSslEscaped(v: string): string {
  const chars = [...v];
  return chars
    .map((c, i) =>
      ',+"\\<>;'.includes(c) ||
      ((c === '#' || c === ' ') && i === 0 && chars.length > 1) ||
      (c === ' ' && i === chars.length - 1)
        ? `\\${c}`
        : c,
    )
    .join('');
}

/** The subject Name element of a certificate, found by reading the DER here (not with src/). */
function certificateSubjectDer(der: Buffer): Buffer {
  const element = (at: number) => {
    const first = der[at + 1]!;
    const count = first < 0x80 ? 0 : first & 0x7f;
    let length = count === 0 ? first : 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[at + 2 + i]!;
    const content = at + 2 + count;
    return { content, end: content + length };
  };
  let at = element(element(0).content).content; // into Certificate, then into TBSCertificate
  for (let i = 0; i < 5; i++) at = element(at).end; // version, serial, signature, issuer, validity
  return der.subarray(at, element(at).end);
}

describe(`${RUNS} generated valid subjects, each through the issuing path`, () => {
  let ca: CertificateAuthority;
  let keys: KeyObject[];

  beforeAll(async () => {
    ca = await loadTestCa();
    keys = await fixtureKeys();
  });

  it('each certificate parses with OpenSSL, holds exactly the CSR subject, and reads back as its values', async () => {
    const issued: { csr: Buffer; pem: string }[] = [];
    const now = new Date();
    fc.assert(
      fc.property(subject, fc.nat(keys.length - 1), (attributes, keyIndex) => {
        const name = rawName(attributes.map((a): RawAttribute => [a.oid, a.tag, a.value]));
        const csr = rawCsr({ name, key: keys[keyIndex]! });
        const result = checkAndIssue(csr, line, ca, { now, randomBytes });
        if (!result.ok) throw new Error(JSON.stringify(result.violations));
        const certificate = result.certificate;
        expect(certificateSubjectDer(certificate.der).toString('hex')).toBe(name.toString('hex'));
        const read = new X509Certificate(certificate.pem).subject;
        expect(read).toBe(attributes.map((a) => `${a.type}=${openSslEscaped(a.value)}`).join('\n'));
        issued.push({ csr, pem: certificate.pem });
      }),
      { numRuns: RUNS },
    );
    expect(issued).toHaveLength(RUNS);

    // One strict OpenSSL parse of all of them: crl2pkcs7 refuses the whole file if one is bad.
    const dir = await tempDir();
    const all = join(dir, 'all.pem');
    await writeFile(all, issued.map((i) => i.pem).join(''));
    const { stdout } = await run(
      'bash',
      [
        '-o',
        'pipefail',
        '-c',
        `openssl crl2pkcs7 -nocrl -certfile ${all} | openssl pkcs7 -print_certs -noout`,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    expect(stdout.match(/^subject=/gm)).toHaveLength(RUNS);

    // OpenSSL's reading of the CSR and of its certificate, for a sample.
    for (const [i, { csr, pem }] of issued.slice(0, 10).entries()) {
      const csrPath = join(dir, `${i}.csr`);
      const certPath = join(dir, `${i}.pem`);
      await writeFile(csrPath, toPem('CERTIFICATE REQUEST', csr));
      await writeFile(certPath, pem);
      const nameopt = ['-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb'];
      const fromCsr = await openssl(['req', '-in', csrPath, ...nameopt]);
      const fromCertificate = await openssl(['x509', '-in', certPath, ...nameopt]);
      expect(fromCsr.code).toBe(0);
      expect(fromCertificate.output).toBe(fromCsr.output);
    }
  }, 180_000);
});
