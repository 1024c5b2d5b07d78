import { createPublicKey, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCsr, PRIVATE_KEY_PROBLEM, type ParsedCsr } from '../../src/ca/parse-csr.ts';
import { toPem } from '../../src/ca/pem.ts';
import {
  judgeCsr,
  type CsrViolationCode,
  type KnownKeyStatus,
  type PolicyContext,
} from '../../src/core/csr-policy.ts';
import { csrPath, openssl, readCsr, tempDir } from '../helpers/fixtures.ts';
import {
  extensionRequest,
  fixtureKeys,
  OID,
  rawCsr,
  rawName,
  standardSubject,
  STRING,
  type RawCsr,
} from '../helpers/raw-csr.ts';
import type { KeyObject } from 'node:crypto';
import { unsafeCharacters } from '../../src/core/distinguished-name.ts';

const line: PolicyContext = { minRsaBits: 4096, connector: 'hr_integration', customerCode: 'TE1002' };
const codesOf = (parsed: ParsedCsr, context: PolicyContext = line) =>
  judgeCsr(parsed, context).violations.map((v) => v.code);
const problemOf = (parsed: ParsedCsr) => (parsed.ok ? undefined : parsed.problem);
const utf16le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
const utf16be = (text: string) =>
  Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);

/** openssl's output file as bytes. */
async function opensslBytes(args: string[], name: string): Promise<Buffer> {
  const out = join(await tempDir(), name);
  const made = await openssl([...args, '-out', out]);
  if (made.code !== 0) throw new Error(made.output);
  return readFile(out);
}

let pem: Buffer;
let der: Buffer;
let keys: KeyObject[];

beforeAll(async () => {
  pem = await readCsr('valid-development.csr');
  der = await opensslBytes(['req', '-in', csrPath('valid-development.csr'), '-outform', 'DER'], 'csr.der');
  keys = await fixtureKeys();
});

describe('an upload is read as what it is (item 3)', () => {
  it('DER, base64 DER without armour (an EST body), UTF-8 with BOM, UTF-16 LE/BE with BOM: the same CSR', async () => {
    const expected = parseCsr(pem);
    if (!expected.ok) throw new Error(expected.problem);
    const text = pem.toString();
    const uploads: [string, Buffer][] = [
      ['DER', der],
      [
        'base64 DER, 76-character CRLF lines',
        Buffer.from(der.toString('base64').replace(/(.{76})/g, '$1\r\n')),
      ],
      ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), pem])],
      ["UTF-16 LE with BOM and CRLF (PowerShell's >)", utf16le(text.replace(/\n/g, '\r\n'))],
      ['UTF-16 BE with BOM', utf16be(text)],
      ['PEM followed by a NUL', Buffer.concat([pem, Buffer.from([0])])],
      [
        'PEM with openssl req -text output before it',
        Buffer.from(`Certificate Request:\n    Data: ...\n${text}`),
      ],
    ];
    for (const [what, bytes] of uploads) {
      const parsed = parseCsr(bytes);
      expect({ what, problem: problemOf(parsed) }).toEqual({ what, problem: undefined });
      if (parsed.ok)
        expect({ what, der: parsed.der.toString('hex') }).toEqual({ what, der: der.toString('hex') });
      expect(codesOf(parsed)).toEqual([]);
    }
  });

  it('a UTF-16 file really written by iconv (as PowerShell writes it) is read', async () => {
    const path = join(await tempDir(), 'utf16.csr');
    const { run } = await import('../helpers/fixtures.ts');
    const { stdout } = await run('iconv', ['-f', 'UTF-8', '-t', 'UTF-16', csrPath('valid-development.csr')], {
      encoding: 'buffer',
    });
    await writeFile(path, stdout);
    expect([...stdout.subarray(0, 2)]).toSatisfy((bom: number[]) => bom[0]! + bom[1]! === 0xff + 0xfe);
    expect(codesOf(parseCsr(await readFile(path)))).toEqual([]);
  });

  it.each<[string, () => Buffer, RegExp]>([
    [
      'random bytes',
      () => Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7919 + 13) % 256)),
      /binary data that is not a CSR/,
    ],
    [
      'UTF-16 without BOM',
      () => Buffer.from(pem.toString(), 'utf16le'),
      /UTF-16 LE text without a byte order mark/,
    ],
    [
      'a Word document',
      () => Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), randomBytes(200)]),
      /Word document/,
    ],
    [
      'a .docx',
      () => Buffer.concat([Buffer.from('PK\x03\x04'), randomBytes(200)]),
      /ZIP archive, such as a Word \.docx/,
    ],
    ['a PDF', () => Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj'), /PDF document/],
    [
      'plain text',
      () => Buffer.from('Dear Nedap, here is our CSR: see attachment'),
      /the file is text, with no -----BEGIN CERTIFICATE REQUEST-----/,
    ],
    ['an empty file', () => Buffer.alloc(0), /the file is empty/],
    ['a certificate', () => Buffer.alloc(0), /holds a CERTIFICATE, not a certificate request/],
  ])('%s: malformed_csr saying what the file looks like', async (what, bytes, hint) => {
    const input = what === 'a certificate' ? await readFile(join(csrPath('..'), 'ca/ca.pem')) : bytes();
    const parsed = parseCsr(input);
    expect(codesOf(parsed)).toEqual(['malformed_csr']);
    expect(problemOf(parsed)).toMatch(hint);
  });

  it('a DER certificate is named as one', async () => {
    const certificate = await opensslBytes(
      ['x509', '-in', join(csrPath('..'), 'ca/ca.pem'), '-outform', 'DER'],
      'ca.der',
    );
    expect(problemOf(parseCsr(certificate))).toMatch(
      /^this looks like a DER certificate, not a certificate request/,
    );
  });

  it('never repeats upload bytes in a message: an unknown PEM label or text is not echoed', () => {
    const uploads = [
      '-----BEGIN <script>alert(1)</script> X-----\nAAAA\n-----END <script>alert(1)</script> X-----',
      '-----BEGIN SECRET CANARY-----\nAAAA\n-----END SECRET CANARY-----\n',
      'CANARY text CANARY',
      `${pem.toString().replace('-----END CERTIFICATE REQUEST-----', '')}CANARY`,
    ];
    for (const upload of uploads) {
      const problem = problemOf(parseCsr(upload)) ?? '';
      expect(problem).not.toMatch(/CANARY|script/);
      expect(problem.length).toBeGreaterThan(30);
    }
    expect(problemOf(parseCsr(uploads[1]!))).toMatch(/holds a PEM block of another kind/);
    expect(problemOf(parseCsr(uploads[3]!))).toMatch(/no matching -----END CERTIFICATE REQUEST----- line/);
  });
});

describe('private keys are recognised by structure, in every form (item 4)', () => {
  let keyForms: [string, Buffer][];

  beforeAll(async () => {
    const key = csrPath('valid-development.key');
    const pkcs8 = await opensslBytes(['pkey', '-in', key, '-outform', 'DER'], 'p8.der');
    const pkcs1 = await opensslBytes(['rsa', '-in', key, '-traditional', '-outform', 'DER'], 'p1.der');
    const encrypted = await opensslBytes(
      ['pkcs8', '-topk8', '-in', key, '-v2', 'aes-256-cbc', '-passout', 'pass:secret', '-outform', 'DER'],
      'enc.der',
    );
    const ecPem = await opensslBytes(
      ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      'ec.pem',
    );
    const ecPath = join(await tempDir(), 'ec.pem');
    await writeFile(ecPath, ecPem);
    const sec1 = await opensslBytes(['ec', '-in', ecPath, '-outform', 'DER'], 'ec.der');
    const pemKey = await readFile(key);
    keyForms = [
      ['PEM PKCS#8', pemKey],
      ['PEM PKCS#8 in UTF-16 with BOM', utf16le(pemKey.toString())],
      ['a CSR and its key in one file', Buffer.concat([pem, pemKey])],
      ['DER PKCS#8 PrivateKeyInfo', pkcs8],
      ['DER PKCS#1 RSAPrivateKey', pkcs1],
      ['DER encrypted PKCS#8', encrypted],
      ['DER SEC1 ECPrivateKey', sec1],
      ['base64 DER PKCS#1 without armour', Buffer.from(pkcs1.toString('base64'))],
      ['a DER CSR followed by a DER key', Buffer.concat([der, pkcs1])],
      ['DER PKCS#1 in a CERTIFICATE REQUEST block', Buffer.from(toPem('CERTIFICATE REQUEST', pkcs1))],
    ];
  });

  it('each is refused with the "treat it as leaked" warning, and only a CSR beside it is kept', () => {
    for (const [what, bytes] of keyForms) {
      const parsed = parseCsr(bytes);
      expect({ what, problem: problemOf(parsed), codes: codesOf(parsed) }).toEqual({
        what,
        problem: PRIVATE_KEY_PROBLEM,
        codes: ['malformed_csr'],
      });
      const kept = !parsed.ok && parsed.csrDer ? parsed.csrDer.toString('hex') : undefined;
      const besideACsr = what.startsWith('a CSR') || what.startsWith('a DER CSR');
      expect({ what, kept }).toEqual({ what, kept: besideACsr ? der.toString('hex') : undefined });
    }
    expect(PRIVATE_KEY_PROBLEM).toMatch(/never send your private key.*treated as leaked/);
  });
});

describe('strict DER and a signature algorithm that fits the key (item 6)', () => {
  const build = (parts: Partial<RawCsr> = {}) =>
    parseCsr(rawCsr({ name: rawName(standardSubject()), key: keys[0]!, ...parts }));

  it('the raw builder makes CSRs the policy and OpenSSL accept', async () => {
    const bytes = rawCsr({ name: rawName(standardSubject()), key: keys[0]! });
    expect(codesOf(parseCsr(bytes))).toEqual([]);
    const path = join(await tempDir(), 'raw.der');
    await writeFile(path, bytes);
    expect((await openssl(['req', '-inform', 'DER', '-in', path, '-verify', '-noout'])).output).toMatch(
      /verify OK/i,
    );
  });

  it('ecdsa-with-SHA256 over an RSA key (RSA PKCS#1 signature bytes): signature_invalid, as OpenSSL refuses it', async () => {
    const bytes = rawCsr({
      name: rawName(standardSubject()),
      key: keys[0]!,
      algorithm: OID.ecdsaWithSha256,
      parameters: null,
    });
    const parsed = parseCsr(bytes);
    expect(codesOf(parsed)).toEqual(['signature_invalid']);
    expect(judgeCsr(parsed, line).violations[0]!.message).toMatch(
      /ecdsa-with-SHA256, which is not an algorithm for its RSA key/,
    );
    const path = join(await tempDir(), 'ecdsa-over-rsa.der');
    await writeFile(path, bytes);
    expect((await openssl(['req', '-inform', 'DER', '-in', path, '-verify', '-noout'])).code).not.toBe(0);
  });

  it.each<[string, () => ParsedCsr, RegExp]>([
    [
      'a CN whose OID has a non-minimal arc (06 04 55 80 04 03)',
      () =>
        build({
          name: rawName(
            standardSubject({
              CN: [Buffer.from('55800403', 'hex'), STRING.utf8, 'hr_integration-TE1002-raw'],
            }),
          ),
        }),
      /OID arc is not minimally encoded/,
    ],
    [
      'a version INTEGER 02 02 00 00',
      () => build({ version: Buffer.from('02020000', 'hex') }),
      /INTEGER is not minimally encoded/,
    ],
    ['version 2', () => build({ version: Buffer.from('020101', 'hex') }), /version is not 1/],
    [
      'basicConstraints with BOOLEAN 01 (not FF)',
      () => build({ attributes: extensionRequest(Buffer.from('3003010101', 'hex')) }),
      /BOOLEAN is not 00 or FF/,
    ],
    [
      'a constructed UTF8String (BER)',
      () =>
        build({
          name: rawName(standardSubject({ O: [OID.O, 0x2c, Buffer.from('0c045a6f7267', 'hex')] })),
        }),
      /constructed string is BER/,
    ],
    [
      'a multi-valued RDN whose SET is not sorted',
      () =>
        build({
          name: rawName([
            ...standardSubject({ OU: undefined, O: undefined }),
            [
              [OID.OU, STRING.utf8, 'Integrations'],
              [OID.O, STRING.utf8, 'Example'],
            ],
          ]),
        }),
      /not canonical DER/,
    ],
    [
      'a PrintableString holding @',
      () => build({ name: rawName(standardSubject({ O: [OID.O, STRING.printable, 'a@b'] })) }),
      /O is a PrintableString with characters a PrintableString cannot hold/,
    ],
    [
      'a UTF8String that is not UTF-8',
      () =>
        build({ name: rawName(standardSubject({ O: [OID.O, STRING.utf8, Buffer.from('c328', 'hex')] })) }),
      /not valid UTF-8/,
    ],
    [
      'a public key with a non-minimal length',
      () => {
        const spki = createPublicKey(keys[0]!).export({ type: 'spki', format: 'der' });
        // 30 82 02 22 ... -> 30 83 00 02 22 ...: the same key, a BER length.
        const ber = Buffer.concat([Buffer.from([0x30, 0x83, 0x00]), spki.subarray(2)]);
        return build({ spki: ber });
      },
      /length is not minimally encoded/,
    ],
    [
      'an indefinite length',
      () => parseCsr(toPem('CERTIFICATE REQUEST', Buffer.from('308002010000000000', 'hex'))),
      /indefinite length/,
    ],
  ])('%s: malformed_csr', (what, parse, detail) => {
    const parsed = parse();
    expect(codesOf(parsed)).toEqual(['malformed_csr']);
    expect(problemOf(parsed)).toMatch(detail);
  });

  it('trailing bytes after the CSR are refused, as DER and in PEM', () => {
    for (const bytes of [
      Buffer.concat([der, Buffer.from([0])]),
      Buffer.from(toPem('CERTIFICATE REQUEST', Buffer.concat([der, Buffer.from([0, 0])]))),
    ]) {
      expect(problemOf(parseCsr(bytes))).toMatch(/bytes after the end of the structure|more after the CSR/);
    }
    expect(problemOf(parseCsr(Buffer.concat([der, der])))).toMatch(/the file has more after the CSR/);
  });

  it('an explicit BOOLEAN FF is read as CA:TRUE (ca_requested), not refused as bad DER', () => {
    expect(codesOf(build({ attributes: extensionRequest(Buffer.from('30030101ff', 'hex')) }))).toEqual([
      'ca_requested',
    ]);
  });
});

describe('subjects are judged, not trusted (item 5)', () => {
  const judged = (
    changes: Parameters<typeof standardSubject>[0],
    extra: Parameters<typeof rawName>[0] = [],
  ) => {
    const verdict = judgeCsr(
      parseCsr(rawCsr({ name: rawName([...standardSubject(changes), ...extra]), key: keys[0]! })),
      line,
    );
    return { codes: verdict.violations.map((v) => v.code), message: verdict.violations[0]?.message ?? '' };
  };

  it.each<[string, Parameters<typeof standardSubject>[0], RegExp]>([
    ['NUL in O', { O: [OID.O, STRING.utf8, 'Zorg\0B.V.'] }, /O "Zorg<U\+0000>B\.V\." holds U\+0000/],
    [
      'CR LF in L',
      { L: [OID.L, STRING.utf8, 'Enschede\r\nCN=x'] },
      /L "Enschede<U\+000D><U\+000A>CN=x" holds U\+000D and U\+000A/,
    ],
    [
      'U+202E in OU',
      { OU: [OID.OU, STRING.utf8, 'abc\u202egnp.exe'] },
      /OU "abc<U\+202E>gnp\.exe" holds U\+202E/,
    ],
    ['a C1 control in ST', { ST: [OID.ST, STRING.utf8, 'Over\u0085ijssel'] }, /ST "Over<U\+0085>ijssel"/],
    [
      'a BMPString O',
      { O: [OID.O, STRING.bmp, Buffer.from('Zorg', 'utf16le').swap16()] },
      /O is a BMPString; it must be a UTF8String or PrintableString/,
    ],
    [
      'a UTF8String emailAddress',
      { emailAddress: [OID.emailAddress, STRING.utf8, 'pki@example.com'] },
      /emailAddress is a UTF8String; it must be an IA5String/,
    ],
  ] as const)(
    '%s: subject_invalid_field naming the attribute, the character made visible',
    (what, changes, message) => {
      const result = judged(changes);
      expect(result.codes).toEqual(['subject_invalid_field']);
      expect(result.message).toMatch(message);
      expect(unsafeCharacters(result.message)).toEqual([]);
    },
  );

  it('attributes beyond the seven and multi-valued RDNs are refused', () => {
    const extra = judged({}, [[OID.serialNumber, STRING.printable, '1234']]);
    expect(extra).toEqual({
      codes: ['subject_invalid_field'],
      message: expect.stringMatching(/serialNumber is an attribute the Ons API does not use: remove it/),
    });
    const unknown = judged({}, [['1.3.6.1.4.1.99999.1', STRING.utf8, 'x']]);
    expect(unknown.message).toMatch(/1\.3\.6\.1\.4\.1\.99999\.1 is an attribute the Ons API does not use/);
    const multi = judged({ OU: undefined, O: undefined }, [
      [
        [OID.O, STRING.utf8, 'Example'],
        [OID.OU, STRING.utf8, 'Integrations'],
      ],
    ]);
    expect(multi).toEqual({
      codes: ['subject_invalid_field'],
      message: expect.stringMatching(/O and OU share one RDN \(joined with \+\)/),
    });
  });

  it('an O holding ", CN=" is a valid value: it is accepted, and only ever shown escaped', async () => {
    const path = join(await tempDir(), 'comma.csr');
    const made = await openssl([
      ...['req', '-new', '-key', csrPath('valid-development.key'), '-out', path, '-utf8', '-subj'],
      '/CN=hr_integration-TE1002-x/OU=Zorg/O=Zorg B.V., CN=other_conn-CF1234-prod/L=Zwolle/ST=Overijssel/C=NL/emailAddress=a@b.nl',
    ]);
    expect(made.code).toBe(0);
    const parsed = parseCsr(await readFile(path));
    expect(codesOf(parsed)).toEqual([]);
    if (parsed.ok)
      expect(parsed.facts.subject[2]).toMatchObject({
        type: 'O',
        value: 'Zorg B.V., CN=other_conn-CF1234-prod',
      });
  });
});

describe('no key-status oracle: proof of possession first (item 7)', () => {
  const statuses: KnownKeyStatus[] = ['issued', 'disabled'];

  it.each(statuses)(
    "another's public key with a garbage signature learns nothing of its %s certificate",
    (status) => {
      const spki = createPublicKey(keys[1]!).export({ type: 'spki', format: 'der' });
      const forged = parseCsr(
        rawCsr({ name: rawName(standardSubject()), key: keys[0]!, spki, signature: randomBytes(512) }),
      );
      if (!forged.ok) throw new Error(forged.problem);
      const knownKeys = new Map([[forged.facts.publicKeySha256, status]]);
      expect(codesOf(forged, { ...line, knownKeys })).toEqual(['signature_invalid']);
      // Signed by someone else's key entirely (valid signature for another SPKI): the same.
      const signedByOther = parseCsr(rawCsr({ name: rawName(standardSubject()), key: keys[0]!, spki }));
      expect(codesOf(signedByOther, { ...line, knownKeys })).toEqual(['signature_invalid']);
      // Whoever holds the private key is told.
      const own = parseCsr(rawCsr({ name: rawName(standardSubject()), key: keys[1]! }));
      const expected: CsrViolationCode = status === 'issued' ? 'key_reused' : 'key_compromised';
      expect(codesOf(own, { ...line, knownKeys })).toEqual([expected]);
    },
  );
});
