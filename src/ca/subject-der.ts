import type { SubjectEntry, SubjectStringType } from '../core/csr-policy.ts';
import {
  content,
  DerError,
  encodeOid,
  encodeTlv,
  readChildren,
  readOid,
  slice,
  TAG,
  type Tlv,
} from './der.ts';

/** Short names of the attribute types we name; any other type is shown as its dotted OID. */
export const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.11': 'OU',
  '2.5.4.10': 'O',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.6': 'C',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.9': 'street',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.17': 'postalCode',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
};

const ATTRIBUTE_OIDS = new Map(Object.entries(ATTRIBUTE_NAMES).map(([oid, name]) => [name, oid]));
const DOTTED = /^\d+(\.\d+)+$/;

const STRING_TAGS: Record<SubjectStringType, number> = {
  printable: TAG.PRINTABLE_STRING,
  utf8: TAG.UTF8_STRING,
  ia5: TAG.IA5_STRING,
  teletex: TAG.TELETEX_STRING,
  bmp: TAG.BMP_STRING,
  universal: TAG.UNIVERSAL_STRING,
};
const STRING_TYPES = new Map(
  Object.entries(STRING_TAGS).map(([type, tag]) => [tag, type as SubjectStringType]),
);

/** X.680's PrintableString alphabet. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a subject Name: every RDN a non-empty SET of (OID, string) pairs, every value a string
 * whose bytes are valid for its type. The Name is then encoded again from what was read
 * (`encodeName`) and must come out byte for byte as it was: so the subject is canonical DER
 * (sets sorted, nothing we did not understand), and a certificate built from the attributes
 * has exactly the subject the supplier signed.
 */
export function readName(der: Buffer, name: Tlv): SubjectEntry[] {
  if (name.tag !== TAG.SEQUENCE) throw new DerError('the subject is not a SEQUENCE');
  const entries: SubjectEntry[] = [];
  readChildren(der, name).forEach((rdn, index) => {
    if (rdn.tag !== TAG.SET) throw new DerError('a subject RDN is not a SET');
    const pairs = readChildren(der, rdn);
    if (pairs.length === 0) throw new DerError('a subject RDN is empty');
    for (const pair of pairs) {
      const [oid, value, ...extra] = pair.tag === TAG.SEQUENCE ? readChildren(der, pair) : [];
      if (!oid || !value || extra.length > 0) throw new DerError('a subject attribute is not (type, value)');
      const dotted = readOid(der, oid);
      const type = ATTRIBUTE_NAMES[dotted] ?? dotted;
      entries.push({ type, ...decodeString(der, value, type), rdn: index });
    }
  });
  if (!encodeName(entries).equals(slice(der, name))) {
    throw new DerError('the subject is not canonical DER (the attributes of an RDN are not sorted)');
  }
  return entries;
}

function decodeString(der: Buffer, tlv: Tlv, type: string): { value: string; stringType: SubjectStringType } {
  const stringType = STRING_TYPES.get(tlv.tag);
  if (!stringType) throw new DerError(`the subject's ${type} is not a string`);
  const bytes = content(der, tlv);
  const bad = (what: string) => new DerError(`the subject's ${type} is ${what}`);
  switch (stringType) {
    case 'utf8':
      try {
        return { value: UTF8.decode(bytes), stringType };
      } catch {
        throw bad('a UTF8String that is not valid UTF-8');
      }
    case 'printable':
    case 'ia5': {
      const value = bytes.toString('latin1');
      if (stringType === 'printable' && !PRINTABLE.test(value))
        throw bad('a PrintableString with characters a PrintableString cannot hold');
      if (bytes.some((b) => b > 0x7f)) throw bad('an IA5String with bytes that are not ASCII');
      return { value, stringType };
    }
    case 'teletex':
      return { value: bytes.toString('latin1'), stringType };
    case 'bmp':
      if (bytes.length % 2 !== 0) throw bad('a BMPString of an odd length');
      {
        const value = Buffer.from(bytes).swap16().toString('utf16le');
        // UCS-2: a surrogate is no character (and a lone one cannot be stored as JSON text).
        if (/[\ud800-\udfff]/.test(value)) throw bad('a BMPString with values that are not characters');
        return { value, stringType };
      }
    case 'universal': {
      if (bytes.length % 4 !== 0) throw bad('a UniversalString whose length is not a multiple of 4');
      const points = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readUInt32BE(i * 4));
      if (points.some((p) => p > 0x10ffff || (p >= 0xd800 && p <= 0xdfff)))
        throw bad('a UniversalString with values that are not characters');
      return { value: String.fromCodePoint(...points), stringType };
    }
  }
}

function encodeString(value: string, stringType: SubjectStringType): Buffer {
  switch (stringType) {
    case 'utf8':
      return Buffer.from(value, 'utf8');
    case 'printable':
    case 'ia5':
    case 'teletex':
      return Buffer.from(value, 'latin1');
    case 'bmp':
      return Buffer.from(value, 'utf16le').swap16();
    case 'universal': {
      const points = [...value].map((c) => c.codePointAt(0)!);
      const bytes = Buffer.alloc(points.length * 4);
      points.forEach((p, i) => bytes.writeUInt32BE(p, i * 4));
      return bytes;
    }
  }
}

/**
 * A subject Name in DER from its attributes: in their order, one RDN per `rdn` index (one
 * each when absent), each value in its string type (UTF8String when absent), the pairs of a
 * multi-valued RDN sorted as DER's SET OF requires.
 */
export function encodeName(entries: readonly SubjectEntry[]): Buffer {
  const rdns: Buffer[][] = [];
  let last: number | undefined;
  entries.forEach((entry, i) => {
    const rdn = entry.rdn ?? -1 - i;
    if (rdn !== last || rdns.length === 0) rdns.push([]);
    last = rdn;
    const oid = ATTRIBUTE_OIDS.get(entry.type) ?? (DOTTED.test(entry.type) ? entry.type : undefined);
    if (!oid) throw new Error(`no OID for the subject attribute type ${entry.type}`);
    const stringType = entry.stringType ?? 'utf8';
    rdns[rdns.length - 1]!.push(
      encodeTlv(TAG.SEQUENCE, [
        encodeTlv(TAG.OID, encodeOid(oid)),
        encodeTlv(STRING_TAGS[stringType], encodeString(entry.value, stringType)),
      ]),
    );
  });
  return encodeTlv(
    TAG.SEQUENCE,
    rdns.map((pairs) => encodeTlv(TAG.SET, [...pairs].sort(Buffer.compare))),
  );
}
