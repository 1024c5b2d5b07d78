import type { IncomingHttpHeaders } from 'node:http';
import busboy from 'busboy';
import { BodyError, NUL_IN_TEXT, type BodyFailure } from './body-errors.ts';
import { MAX_BODY_BYTES } from './body-limit.ts';

/** A multipart form as read: the first value of each name (a later one of the same name is ignored). */
export interface MultipartForm {
  /** Text fields by name; a plain object without prototype, so `__proto__` is just a name. */
  fields: Record<string, string>;
  /** Files by field name, byte for byte. */
  files: Map<string, Buffer>;
}

/**
 * Our forms have a CSRF field, a CSR file or field and a few more: anything beyond is not ours.
 * busboy signals `parts` on reaching it (not on passing it), hence one more than fields + files.
 */
const LIMITS = { files: 2, fields: 20, parts: 23, fileSize: MAX_BODY_BYTES, fieldSize: MAX_BODY_BYTES };

const MALFORMED: BodyFailure = {
  status: 400,
  code: 'malformed_multipart',
  message:
    'the multipart form could not be read (cut off, without its boundary, or malformed); send the form again',
};
const TOO_MANY: BodyFailure = {
  status: 413,
  code: 'too_many_fields',
  message: `a form may have at most ${LIMITS.fields} fields and ${LIMITS.files} files; send only the fields of the form`,
};
const TOO_LARGE: BodyFailure = {
  status: 413,
  code: 'body_too_large',
  message: `a file or field of a form is at most ${MAX_BODY_BYTES / 1024} KiB`,
};
const CHARSET: BodyFailure = {
  status: 415,
  code: 'unsupported_charset',
  message: 'a field of the form has a charset that is not supported: send it as UTF-8',
};

/**
 * Reads a whole `multipart/form-data` body (already read with the size limit) into its fields
 * and files. Any way the form is not a complete, well-formed one within the limits (no or a
 * bad boundary, cut off, a malformed part header, too many parts, a file cut at a limit, a
 * charset we cannot decode, a text field holding NUL) rejects with a BodyError (400, 413 or
 * 415), never with an unhandled stream error: busboy's file streams emit 'error' when the form
 * ends early, and a file stream without a listener takes the process down.
 */
export function readMultipart(headers: IncomingHttpHeaders, body: Buffer): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    const fields = Object.create(null) as Record<string, string>;
    const files = new Map<string, Buffer>();
    let settled = false;
    const fail = (failure: BodyFailure) => {
      if (settled) return;
      settled = true;
      reject(new BodyError(failure));
    };
    let parser: busboy.Busboy;
    try {
      // Throws without a content type, for another type, and without a boundary parameter.
      parser = busboy({ headers, limits: LIMITS });
    } catch {
      return fail(MALFORMED);
    }
    // busboy names a part without a name (or with name="") undefined: no form of ours sends one.
    parser.on('file', (name: unknown, stream) => {
      // First of all: a form cut off later makes every open file stream emit 'error'.
      stream.on('error', () => fail(MALFORMED));
      if (typeof name !== 'string') {
        stream.resume();
        return fail(MALFORMED);
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      // A file cut at the size limit is not the file that was sent: never hand on a part of it.
      stream.on('limit', () => fail(TOO_LARGE));
      stream.on('end', () => {
        if (!stream.truncated && !files.has(name)) files.set(name, Buffer.concat(chunks));
      });
    });
    parser.on('field', (name: unknown, value: unknown, info) => {
      if (typeof name !== 'string') return fail(MALFORMED);
      if (info.valueTruncated) return fail(TOO_LARGE);
      // busboy gives undefined for a part whose charset it cannot decode.
      if (typeof value !== 'string') return fail(CHARSET);
      // A text field never holds NUL (a file may: a DER CSR is bytes).
      if (value.includes('\u0000') || name.includes('\u0000')) return fail(NUL_IN_TEXT);
      if (!(name in fields)) fields[name] = value;
    });
    for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const)
      parser.on(limit, () => fail(TOO_MANY));
    parser.on('error', () => fail(MALFORMED));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      resolve({ fields, files });
    });
    try {
      parser.end(body);
    } catch {
      // busboy parses (and calls the handlers above) in here: a throw is a form we cannot read.
      fail(MALFORMED);
    }
  });
}
