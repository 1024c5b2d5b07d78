import { readChildren, readTlv, TAG } from './der.ts';
import { findPemMarkers } from './pem.ts';

/**
 * What an uploaded file is before it is read as a CSR: DER, text (decoded as its byte order
 * mark says, else UTF-8, else byte for byte when it still holds PEM armour), or something else
 * with a hint in words of what it looks like. Never the upload's own bytes in a hint.
 */
export type Upload =
  | { kind: 'der'; bytes: Buffer }
  | { kind: 'text'; text: string; bytes: Buffer }
  | { kind: 'other'; hint: string };

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Sorts an upload into DER, text or other (see `Upload`). */
export function readUpload(input: string | Buffer): Upload {
  if (typeof input === 'string') {
    const text = input.startsWith('\ufeff') ? input.slice(1) : input;
    return { kind: 'text', text, bytes: Buffer.from(text, 'utf8') };
  }
  const bytes = input;
  if (startsWith(bytes, [0xef, 0xbb, 0xbf])) return decodedText(bytes.subarray(3), 'utf8');
  if (startsWith(bytes, [0xff, 0xfe])) return decodedText(bytes.subarray(2), 'utf16le');
  if (startsWith(bytes, [0xfe, 0xff])) return decodedText(bytes.subarray(2), 'utf16be');
  const latin1 = bytes.toString('latin1');
  const armoured = findPemMarkers(latin1).length > 0;
  if (!armoured && isDer(bytes)) return { kind: 'der', bytes };
  const utf8 = decodeUtf8(bytes);
  if (utf8 !== undefined) return { kind: 'text', text: utf8, bytes };
  // Not UTF-8, but PEM armour is ASCII: a PEM block with stray bytes around it is still read.
  if (armoured) return { kind: 'text', text: latin1, bytes };
  return { kind: 'other', hint: describeBytes(bytes) };
}

function decodedText(bytes: Buffer, encoding: 'utf8' | 'utf16le' | 'utf16be'): Upload {
  if (encoding === 'utf8') {
    const text = decodeUtf8(bytes);
    return text === undefined
      ? { kind: 'other', hint: 'this is a file with a UTF-8 byte order mark that is not UTF-8 text' }
      : { kind: 'text', text, bytes };
  }
  if (bytes.length % 2 !== 0) {
    return { kind: 'other', hint: 'this is a file with a UTF-16 byte order mark and an odd number of bytes' };
  }
  const units = encoding === 'utf16be' ? Buffer.from(bytes).swap16() : bytes;
  const text = units.toString('utf16le');
  return { kind: 'text', text, bytes: Buffer.from(text, 'utf8') };
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function startsWith(bytes: Buffer, prefix: number[]): boolean {
  return prefix.every((byte, i) => bytes[i] === byte);
}

function isDer(bytes: Buffer): boolean {
  if (bytes[0] !== TAG.SEQUENCE) return false;
  try {
    readTlv(bytes, 0);
    return true;
  } catch {
    return false;
  }
}

const SIGNATURES: [number[] | string, string][] = [
  ['%PDF', 'this looks like a PDF document'],
  [
    [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
    'this looks like a Word document (an Office 97-2003 file)',
  ],
  [[0x50, 0x4b, 0x03, 0x04], 'this looks like a ZIP archive, such as a Word .docx document'],
  ['{\\rtf', 'this looks like an RTF document (from Word or WordPad)'],
  ['ssh-rsa ', 'this looks like an SSH public key'],
  ['ssh-ed25519 ', 'this looks like an SSH public key'],
  ['ecdsa-sha2-', 'this looks like an SSH public key'],
];

/**
 * What a file looks like, in words for a message: a document format by its magic number, DER
 * (a certificate by its shape), UTF-16 text without a byte order mark (every other byte zero),
 * text, or binary data.
 */
export function describeBytes(bytes: Buffer): string {
  if (bytes.length === 0) return 'the file is empty';
  for (const [magic, hint] of SIGNATURES) {
    if (startsWith(bytes, typeof magic === 'string' ? [...Buffer.from(magic, 'latin1')] : magic)) return hint;
  }
  if (isDer(bytes)) {
    return looksLikeCertificate(bytes)
      ? 'this looks like a DER certificate'
      : 'this is DER (binary ASN.1) data';
  }
  const utf16 = utf16WithoutBom(bytes);
  if (utf16)
    return `this looks like UTF-16 ${utf16} text without a byte order mark (save it as UTF-8 or ASCII)`;
  const text = decodeUtf8(bytes);
  // Text: nothing below a space but tab, CR and LF.
  // eslint-disable-next-line no-control-regex
  if (text !== undefined && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text))
    return 'the file is text';
  return 'this is binary data that is not a CSR';
}

function looksLikeCertificate(bytes: Buffer): boolean {
  try {
    const [tbs] = readChildren(bytes, readTlv(bytes, 0));
    return tbs?.tag === TAG.SEQUENCE && readChildren(bytes, tbs)[0]?.tag === 0xa0;
  } catch {
    return false;
  }
}

/** 'LE' or 'BE' when most of the first 512 bytes are ASCII with a zero byte beside each. */
function utf16WithoutBom(bytes: Buffer): 'LE' | 'BE' | undefined {
  const sample = bytes.subarray(0, 512 - (Math.min(bytes.length, 512) % 2));
  if (sample.length < 8) return undefined;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < sample.length; i += 2) {
    if (sample[i] === 0) evenZero++;
    if (sample[i + 1] === 0) oddZero++;
  }
  const pairs = sample.length / 2;
  if (oddZero >= pairs * 0.9 && evenZero === 0) return 'LE';
  if (evenZero >= pairs * 0.9 && oddZero === 0) return 'BE';
  return undefined;
}
