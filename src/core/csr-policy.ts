import { parseCommonName } from './common-name.ts';
import { unsafeCharacters, visible } from './distinguished-name.ts';
import { modulusWeakness } from './rsa-key-strength.ts';

/** Stable codes of the CSR policy (product.md, "CSR requirements"). */
export type CsrViolationCode =
  | 'malformed_csr'
  | 'signature_invalid'
  | 'weak_signature_hash'
  | 'key_type_unsupported'
  | 'key_too_small'
  | 'key_too_large'
  | 'key_exponent'
  | 'key_weak_factor'
  | 'key_prime_modulus'
  | 'key_fermat'
  | 'key_roca'
  | 'subject_missing_field'
  | 'subject_invalid_field'
  | 'cn_format'
  | 'cn_connector_mismatch'
  | 'cn_customer_code_mismatch'
  | 'ca_requested'
  | 'key_reused'
  | 'key_compromised'
  | 'key_blocked';

export interface Violation {
  code: CsrViolationCode;
  message: string;
}

export type HashName = 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'none' | 'unknown';

/** The subject attributes the Ons API requires, in the order we report them. */
export const REQUIRED_SUBJECT_FIELDS = ['CN', 'OU', 'O', 'L', 'ST', 'C', 'emailAddress'] as const;
export type SubjectField = (typeof REQUIRED_SUBJECT_FIELDS)[number];

/** The ASN.1 string type a subject value was written in. */
export type SubjectStringType = 'printable' | 'utf8' | 'ia5' | 'teletex' | 'bmp' | 'universal';

/** One subject attribute as the CSR holds it. */
export interface SubjectEntry {
  /** A short name (CN, OU, ...) or the dotted OID when unknown. */
  type: string;
  value: string;
  /** As written; the parser always sets it (absent only in hand-made facts). */
  stringType?: SubjectStringType;
  /** Index of its RDN: two entries with one index are a multi-valued RDN (joined with +). */
  rdn?: number;
}

/** What a parsed CSR says about itself: plain data, read by `ca/` and judged here. */
export interface CsrFacts {
  /** In the CSR's order. */
  subject: SubjectEntry[];
  publicKey: {
    type: string;
    bits?: number;
    exponent?: bigint;
    /** The RSA modulus, for the weak-key checks (none: they are not run). */
    modulus?: bigint;
    /** Whether the modulus is prime, when tested (ca/key-primality.ts: it needs OpenSSL). */
    modulusPrime?: boolean;
  };
  /** A readable name (sha256WithRSAEncryption) or the dotted OID. */
  signatureAlgorithm: string;
  signatureHash: HashName;
  /**
   * The signature verifies over the request info with the algorithm the CSR names, and that
   * algorithm fits the key (proof of possession of the private key).
   */
  signatureValid: boolean;
  /** False when the named algorithm is for another kind of key (ecdsa-with-SHA256 over RSA). */
  signatureFitsKey?: boolean;
  /** From the CSR's extensionRequest: looked at only to refuse CA requests, never copied. */
  requested: { ca: boolean; keyUsages: string[] };
  /** SHA-256 over the CSR's DER, lower-case hex. */
  fingerprintSha256: string;
  /** SHA-256 over the SubjectPublicKeyInfo DER, lower-case hex. */
  publicKeySha256: string;
}

/** What parsing produced: the facts, or why there are none. */
export type CsrReading = { ok: true; facts: CsrFacts } | { ok: false; problem: string };

/**
 * What the database knows of a public key: in earlier certificates (`key_reused`), in a
 * disabled one (`key_compromised`), or blocked by Nedap support (`key_blocked`, which wins).
 */
export type KnownKeyStatus = 'issued' | 'disabled' | 'blocked';

export interface PolicyContext {
  minRsaBits: number;
  /** The connector's technical name; when absent the CN is checked for its form only. */
  connector?: string;
  /** The line's customer code; when absent the CN is checked for its form only. */
  customerCode?: string;
  /** publicKeySha256 of keys in earlier certificates. */
  knownKeys?: ReadonlyMap<string, KnownKeyStatus>;
}

export interface CsrVerdict {
  ok: boolean;
  violations: Violation[];
}

const REQUIRED_EXPONENT = 65537n;
/**
 * The largest RSA modulus we judge. Checking a key costs more the larger it is (the primality
 * test of an 8192-bit modulus ~130 ms, of a 16384-bit one ~1 s, a prime one 128 times that),
 * and no client needs more: a larger key is refused before any of that work.
 */
export const MAX_RSA_BITS = 8192;
const STRONG_HASHES: ReadonlySet<HashName> = new Set(['sha256', 'sha384', 'sha512']);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const COUNTRY = /^[A-Za-z]{2}$/;

/**
 * The CSR policy as one pure verdict: every violation at once, each with a message that
 * says what to fix. Nothing here reads the world; the database's knowledge of earlier keys
 * arrives as `context.knownKeys`.
 */
export function judgeCsr(reading: CsrReading, context: PolicyContext): CsrVerdict {
  if (!reading.ok) {
    return { ok: false, violations: [{ code: 'malformed_csr', message: reading.problem }] };
  }
  const facts = reading.facts;
  const violations = [
    ...checkSignature(facts),
    ...checkKey(facts, context),
    ...checkSubject(facts, context),
    ...checkRequestedExtensions(facts),
    // Proof of possession first: what the database knows of a key is told only to someone who
    // holds its private key, or anyone could upload another's public key and learn its status.
    ...(facts.signatureValid ? checkKeyHistory(facts, context) : []),
  ];
  return { ok: violations.length === 0, violations };
}

/** How a supplier makes a compliant key and CSR, filled in with what we know of the line. */
export function opensslCommand(
  context: Pick<PolicyContext, 'minRsaBits' | 'connector' | 'customerCode'>,
): string {
  const bits = Math.max(context.minRsaBits, 4096);
  const cn = `${context.connector ?? '<technical_name>'}-${context.customerCode ?? '<customer_code>'}-<identification>`;
  return (
    `openssl req -new -newkey rsa:${bits} -sha256 -nodes -keyout client.key -out client.csr ` +
    `-subj "/CN=${cn}/OU=<unit>/O=<organisation>/L=<city>/ST=<province>/C=NL/emailAddress=<address>"`
  );
}

function checkSignature(facts: CsrFacts): Violation[] {
  const found: Violation[] = [];
  const checkable = facts.signatureHash !== 'unknown';
  if (checkable && facts.signatureFitsKey === false) {
    found.push({
      code: 'signature_invalid',
      message:
        `the CSR says it is signed with ${facts.signatureAlgorithm}, which is not an algorithm for its ` +
        `${facts.publicKey.type.toUpperCase()} key, so its signature cannot be right: make the CSR again with openssl req`,
    });
  } else if (checkable && !facts.signatureValid) {
    found.push({
      code: 'signature_invalid',
      message:
        "the CSR's signature does not match its content: the file was changed after it was made, or " +
        'damaged on the way; upload the CSR exactly as openssl wrote it (or make a new one)',
    });
  }
  if (!STRONG_HASHES.has(facts.signatureHash)) {
    const what =
      facts.signatureHash === 'unknown' || facts.signatureHash === 'none'
        ? `with ${facts.signatureAlgorithm}, which the Ons API does not accept`
        : `with ${facts.signatureHash.toUpperCase()} (${facts.signatureAlgorithm})`;
    found.push({
      code: 'weak_signature_hash',
      message: `the CSR is signed ${what}; sign it with SHA-256 or stronger: add -sha256 to openssl req`,
    });
  }
  return found;
}

function checkKey(facts: CsrFacts, context: PolicyContext): Violation[] {
  const { publicKey } = facts;
  if (publicKey.type !== 'rsa') {
    return [
      {
        code: 'key_type_unsupported',
        message: `the key is ${publicKey.type.toUpperCase()}; the Ons API requires an RSA key: generate a new key with ${opensslCommand(context)}`,
      },
    ];
  }
  const found: Violation[] = [];
  if (publicKey.bits === undefined || publicKey.bits < context.minRsaBits) {
    found.push({
      code: 'key_too_small',
      message:
        `the key is ${publicKey.bits ?? 'of unknown size, not'} bits; the Ons API requires at least ` +
        `${context.minRsaBits}: generate a new key with ${opensslCommand(context)}`,
    });
  }
  if (publicKey.bits !== undefined && publicKey.bits > MAX_RSA_BITS) {
    found.push({
      code: 'key_too_large',
      message:
        `the key is ${publicKey.bits} bits; the Ons API accepts at most ${MAX_RSA_BITS} (a larger key only slows ` +
        `every handshake): generate a new key with ${opensslCommand(context)}`,
    });
  }
  if (publicKey.exponent !== REQUIRED_EXPONENT) {
    found.push({
      code: 'key_exponent',
      message:
        `the key's public exponent is ${publicKey.exponent ?? 'unreadable'}; the Ons API requires 65537 ` +
        "(OpenSSL's default): generate a new key without changing the exponent",
    });
  }
  found.push(...checkModulus(publicKey, context));
  return found;
}

/**
 * Keys whose private key follows from the public one (core/rsa-key-strength.ts), and prime
 * moduli. Each means: this key is lost, make a new one.
 */
function checkModulus(publicKey: CsrFacts['publicKey'], context: PolicyContext): Violation[] {
  if (publicKey.modulus === undefined) return [];
  const newKey =
    'do not use this key anywhere; generate a new one with OpenSSL on a machine you trust: ' +
    opensslCommand(context);
  if (publicKey.modulusPrime === true) {
    return [
      {
        code: 'key_prime_modulus',
        message: `the key's modulus is a prime number, not a product of two primes, so anyone can compute the private key from it: ${newKey}`,
      },
    ];
  }
  const weakness = modulusWeakness(publicKey.modulus);
  if (!weakness) return [];
  switch (weakness.kind) {
    case 'even':
    case 'small_factor':
    case 'perfect_power': {
      const what =
        weakness.kind === 'even'
          ? 'is even (divisible by 2)'
          : weakness.kind === 'small_factor'
            ? `is divisible by ${weakness.factor}`
            : `is a perfect power (m^${weakness.exponent})`;
      return [
        {
          code: 'key_weak_factor',
          message: `the key's modulus ${what}, so anyone can factor it and compute the private key: the key was not made by a sound RSA key generator; ${newKey}`,
        },
      ];
    }
    case 'close_primes':
      return [
        {
          code: 'key_fermat',
          message: `the key's two primes are so close together that Fermat's method factors the modulus in ${weakness.round} step${weakness.round === 1 ? '' : 's'}, so anyone can compute the private key: the key was not made by a sound RSA key generator; ${newKey}`,
        },
      ];
    case 'roca':
      return [
        {
          code: 'key_roca',
          message:
            "the key has the fingerprint of keys made by Infineon's vulnerable RSA library (ROCA, CVE-2017-15361), " +
            'which can be factored: it was generated on a smart card, TPM or security token with an Infineon chip. ' +
            `Update the device's firmware before making keys on it again, or generate the key in software: ${newKey}`,
        },
      ];
  }
}

function checkSubject(facts: CsrFacts, context: PolicyContext): Violation[] {
  const found: Violation[] = [];
  const valuesOf = (type: string) => facts.subject.filter((a) => a.type === type).map((a) => a.value);

  const missing = REQUIRED_SUBJECT_FIELDS.filter((field) => !valuesOf(field).some((v) => v.trim() !== ''));
  if (missing.length > 0) {
    found.push({
      code: 'subject_missing_field',
      message:
        `the subject lacks ${listOf(missing)}${missing.length > 1 ? ', all of which are' : ', which is'} required: ` +
        `include CN, OU, O, L, ST, C and emailAddress, e.g. ${opensslCommand(context)}`,
    });
  }

  const invalid: string[] = [];
  const counts = new Map<string, number>();
  for (const { type } of facts.subject) counts.set(type, (counts.get(type) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1).map(([type]) => type);
  if (repeated.length > 0)
    invalid.push(
      `${listOf(repeated)} appear${repeated.length > 1 ? '' : 's'} more than once: give each attribute once`,
    );
  invalid.push(...subjectShapeProblems(facts));
  const [country] = valuesOf('C');
  if (country !== undefined && country.trim() !== '' && !COUNTRY.test(country)) {
    invalid.push(`C is "${visible(country)}": use the two-letter country code, e.g. NL`);
  }
  const [email] = valuesOf('emailAddress');
  if (email !== undefined && email.trim() !== '' && !EMAIL.test(email)) {
    invalid.push(
      `emailAddress "${visible(email)}" is not an e-mail address: use one where you can be reached`,
    );
  }
  if (invalid.length > 0) {
    found.push({ code: 'subject_invalid_field', message: `in the subject, ${invalid.join('; ')}` });
  }

  const [cn] = valuesOf('CN');
  if (cn !== undefined && cn.trim() !== '') found.push(...checkCommonName(cn, context));
  return found;
}

const REQUIRED: ReadonlySet<string> = new Set(REQUIRED_SUBJECT_FIELDS);
const STRING_TYPE_NAMES: Record<SubjectStringType, string> = {
  printable: 'PrintableString',
  utf8: 'UTF8String',
  ia5: 'IA5String',
  teletex: 'TeletexString',
  bmp: 'BMPString',
  universal: 'UniversalString',
};

/**
 * What the subject may hold beyond its values' meaning: only the seven attributes (anything
 * else could be read as an identity by someone, and the Ons API does not use it), each in an
 * RDN of its own (a multi-valued RDN shows as `O=a+OU=b`), in the string types RFC 5280 and
 * OpenSSL use (PrintableString or UTF8String; IA5String for emailAddress), and no character
 * that can hide or fake text (`UNSAFE_CHARACTERS`: controls such as NUL, CR and LF, and bidi
 * overrides such as U+202E).
 */
function subjectShapeProblems(facts: CsrFacts): string[] {
  const problems: string[] = [];
  const extra = [...new Set(facts.subject.map((a) => a.type).filter((type) => !REQUIRED.has(type)))];
  if (extra.length > 0) {
    problems.push(
      `${listOf(extra)} ${extra.length > 1 ? 'are attributes' : 'is an attribute'} the Ons API does not use: ` +
        `remove ${extra.length > 1 ? 'them' : 'it'} ` +
        '(the subject holds only CN, OU, O, L, ST, C and emailAddress)',
    );
  }
  const rdns = new Map<number, string[]>();
  for (const { type, rdn } of facts.subject)
    if (rdn !== undefined) rdns.set(rdn, [...(rdns.get(rdn) ?? []), type]);
  for (const types of rdns.values()) {
    if (types.length > 1) {
      problems.push(`${listOf(types)} share one RDN (joined with +): give each attribute its own RDN`);
    }
  }
  for (const { type, value, stringType } of facts.subject) {
    const allowed = type === 'emailAddress' ? ['ia5'] : ['printable', 'utf8'];
    if (REQUIRED.has(type) && stringType && !allowed.includes(stringType)) {
      problems.push(
        `${type} is a ${STRING_TYPE_NAMES[stringType]}; it must be ${type === 'emailAddress' ? 'an IA5String' : 'a UTF8String or PrintableString'} ` +
          '(as openssl req writes it)',
      );
    }
    const unsafe = unsafeCharacters(value);
    if (unsafe.length > 0) {
      problems.push(
        `${type} "${visible(value)}" holds ${listOf(unsafe)}, ${unsafe.length > 1 ? 'characters' : 'a character'} ` +
          'that a subject must not hold (a control character or a text-direction override): remove it',
      );
    }
  }
  return problems;
}

function checkCommonName(cn: string, context: PolicyContext): Violation[] {
  const parsed = parseCommonName(cn);
  if (!parsed.ok) {
    return [
      {
        code: 'cn_format',
        message:
          `the CN "${visible(cn)}" is not {technical_name}-{customer_code}-{identification} ` +
          `(e.g. hr_integration-TE1002-free_text): ${parsed.problems.join('; ')}`,
      },
    ];
  }
  const found: Violation[] = [];
  const { technicalName, customerCode } = parsed.parts;
  if (context.connector !== undefined && technicalName !== context.connector) {
    found.push({
      code: 'cn_connector_mismatch',
      message:
        `the CN names the connector "${technicalName}" but this CSR is for "${context.connector}": ` +
        `start the CN with ${context.connector}-`,
    });
  }
  if (context.customerCode !== undefined && customerCode !== context.customerCode) {
    found.push({
      code: 'cn_customer_code_mismatch',
      message:
        `the CN names the customer code ${customerCode} but this environment is ${context.customerCode}: ` +
        `use ${technicalName}-${context.customerCode}-${parsed.parts.identification} as the CN`,
    });
  }
  return found;
}

function checkRequestedExtensions(facts: CsrFacts): Violation[] {
  const caUsages = facts.requested.keyUsages.filter((u) => u === 'keyCertSign' || u === 'cRLSign');
  if (!facts.requested.ca && caUsages.length === 0) return [];
  const asked = [...(facts.requested.ca ? ['CA:TRUE'] : []), ...caUsages];
  return [
    {
      code: 'ca_requested',
      message:
        `the CSR asks to be a certificate authority (${asked.join(', ')}); a client certificate cannot be one: ` +
        'make the CSR without -addext basicConstraints/keyUsage options (we set the extensions ourselves)',
    },
  ];
}

function checkKeyHistory(facts: CsrFacts, context: PolicyContext): Violation[] {
  const status = context.knownKeys?.get(facts.publicKeySha256);
  if (status === 'blocked') {
    return [
      {
        code: 'key_blocked',
        message:
          "this key is on Nedap support's list of blocked keys (it is known to be leaked or weak): do not use it " +
          `anywhere; generate a new key and CSR with ${opensslCommand(context)}, and ask Nedap support if you need to know why`,
      },
    ];
  }
  if (status === 'disabled') {
    return [
      {
        code: 'key_compromised',
        message:
          'this key belongs to a certificate that was disabled, so it must be treated as compromised: ' +
          `generate a new key and CSR with ${opensslCommand(context)}`,
      },
    ];
  }
  if (status === 'issued') {
    return [
      {
        code: 'key_reused',
        message:
          'this key is already in an earlier certificate; every certificate needs a new key: ' +
          `generate one with ${opensslCommand(context)}`,
      },
    ];
  }
  return [];
}

function listOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
