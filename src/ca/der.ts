/**
 * A strict DER walker: the exact byte spans a signature and a fingerprint are computed over,
 * and the checks that make sure what we read is DER and nothing laxer. A signature must be
 * checked over the bytes as they were signed, so nothing is re-encoded before it is verified.
 */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the element. */
  end: number;
}

export class DerError extends Error {}

/** Universal tags we read. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  TELETEX_STRING: 0x14,
  IA5_STRING: 0x16,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads one definite-length element at `offset`; throws `DerError` on anything but DER. */
export function readTlv(bytes: Uint8Array, offset: number, limit = bytes.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated element');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not expected here');
  const first = bytes[offset + 1]!;
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = offset + 2;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new DerError('indefinite length is not DER');
    if (count > 4) throw new DerError('length too large');
    if (offset + 2 + count > limit) throw new DerError('truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i]!;
    if (length < 0x80 || bytes[offset + 2] === 0) throw new DerError('length is not minimally encoded');
    contentStart = offset + 2 + count;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('element runs past its container');
  return { tag, start: offset, contentStart, end };
}

/** The elements directly inside a constructed element. */
export function readChildren(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const children: Tlv[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const child = readTlv(bytes, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** The one element that fills `bytes` exactly: trailing bytes are not DER of one value. */
export function readWhole(bytes: Uint8Array): Tlv {
  const tlv = readTlv(bytes, 0);
  if (tlv.end !== bytes.length) throw new DerError('there are bytes after the end of the structure');
  return tlv;
}

export function slice(bytes: Buffer, tlv: Tlv): Buffer {
  return bytes.subarray(tlv.start, tlv.end);
}

export function content(bytes: Buffer, tlv: Tlv): Buffer {
  return bytes.subarray(tlv.contentStart, tlv.end);
}

const MAX_DEPTH = 32;

/**
 * Walks every element of a DER structure and throws `DerError` where it is not DER: lengths
 * minimal and definite (readTlv), constructed only where DER allows (SEQUENCE, SET and
 * context/application tags; a constructed string is BER), and the universal primitives we
 * know with their DER rules: BOOLEAN one byte 00 or FF, INTEGER minimal, NULL empty, OID arcs
 * minimal, BIT STRING with at most 7 unused bits that are zero. The contents of strings (and
 * of OCTET/BIT STRINGs that wrap more DER) are read where they are used.
 */
export function checkStrictDer(bytes: Buffer, tlv: Tlv = readWhole(bytes), depth = 0): void {
  if (depth > MAX_DEPTH) throw new DerError('nested too deeply');
  const constructed = (tlv.tag & 0x20) !== 0;
  const universal = (tlv.tag & 0xc0) === 0;
  if (constructed) {
    if (universal && tlv.tag !== TAG.SEQUENCE && tlv.tag !== TAG.SET) {
      throw new DerError('a constructed string is BER, not DER');
    }
    for (const child of readChildren(bytes, tlv)) checkStrictDer(bytes, child, depth + 1);
    return;
  }
  if (!universal) return;
  const value = content(bytes, tlv);
  switch (tlv.tag) {
    case TAG.BOOLEAN:
      if (value.length !== 1 || (value[0] !== 0x00 && value[0] !== 0xff))
        throw new DerError('a BOOLEAN is not 00 or FF');
      return;
    case TAG.INTEGER:
      checkInteger(value);
      return;
    case TAG.NULL:
      if (value.length !== 0) throw new DerError('a NULL has content');
      return;
    case TAG.OID:
      decodeOid(value);
      return;
    case TAG.BIT_STRING:
      checkBitString(value);
      return;
  }
}

function checkInteger(value: Buffer): void {
  if (value.length === 0) throw new DerError('an INTEGER is empty');
  const redundant =
    value.length > 1 &&
    ((value[0] === 0x00 && (value[1]! & 0x80) === 0) || (value[0] === 0xff && (value[1]! & 0x80) !== 0));
  if (redundant) throw new DerError('an INTEGER is not minimally encoded');
}

function checkBitString(value: Buffer): void {
  const unused = value[0];
  if (unused === undefined || unused > 7) throw new DerError('a BIT STRING has a bad unused-bits count');
  if (value.length === 1 && unused !== 0) throw new DerError('an empty BIT STRING claims unused bits');
  if (unused > 0 && (value[value.length - 1]! & ((1 << unused) - 1)) !== 0)
    throw new DerError('the unused bits of a BIT STRING are not zero');
}

/** A small non-negative INTEGER's value (a version number); throws when it is not one. */
export function readSmallInteger(bytes: Buffer, tlv: Tlv): number {
  if (tlv.tag !== TAG.INTEGER) throw new DerError('expected an INTEGER');
  const value = content(bytes, tlv);
  checkInteger(value);
  if (value.length > 4 || (value[0]! & 0x80) !== 0) throw new DerError('an INTEGER is out of range');
  return value.reduce((n, byte) => n * 256 + byte, 0);
}

/** The dotted form of an OID's content; throws on empty content or a non-minimal arc. */
export function decodeOid(value: Uint8Array): string {
  if (value.length === 0) throw new DerError('an OID is empty');
  if ((value[value.length - 1]! & 0x80) !== 0) throw new DerError('an OID ends inside an arc');
  const arcs: bigint[] = [];
  let arc = 0n;
  let arcStart = true;
  for (const byte of value) {
    if (arcStart && byte === 0x80) throw new DerError('an OID arc is not minimally encoded');
    arc = (arc << 7n) | BigInt(byte & 0x7f);
    arcStart = (byte & 0x80) === 0;
    if (arcStart) {
      arcs.push(arc);
      arc = 0n;
    }
  }
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** The DER content of a dotted OID (the inverse of `decodeOid`). */
export function encodeOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => BigInt(arc));
  if (arcs.length < 2) throw new Error(`not an OID: ${dotted}`);
  const bytes: number[] = [];
  for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const group = [Number(arc & 0x7fn)];
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) group.unshift(Number(rest & 0x7fn) | 0x80);
    bytes.push(...group);
  }
  return Buffer.from(bytes);
}

/** The OID in an element; throws when it is not one. */
export function readOid(bytes: Buffer, tlv: Tlv): string {
  if (tlv.tag !== TAG.OID) throw new DerError('expected an OID');
  return decodeOid(content(bytes, tlv));
}

/** One DER element around already-encoded content, with a minimal definite length. */
export function encodeTlv(tag: number, parts: Uint8Array[] | Uint8Array): Buffer {
  const body = Buffer.concat(Array.isArray(parts) ? parts : [parts]);
  const length = body.length;
  const header =
    length < 0x80
      ? [tag, length]
      : length < 0x100
        ? [tag, 0x81, length]
        : length < 0x10000
          ? [tag, 0x82, length >> 8, length & 0xff]
          : [tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff];
  return Buffer.concat([Buffer.from(header), body]);
}
