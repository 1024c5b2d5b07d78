import { MAX_BODY_BYTES } from './body-limit.ts';

/** A request body that cannot be read, as the client is told: status, stable code, what to do. */
export interface BodyFailure {
  status: number;
  code: string;
  message: string;
}

/**
 * A request body we refuse to read, thrown by our own readers (the multipart reader) so that
 * the API's and the pages' error handlers answer it like body-parser's errors.
 */
export class BodyError extends Error {
  readonly status: number;
  readonly code: string;
  /** http-errors' flag: the message is meant for the client. */
  readonly expose = true;

  constructor(failure: BodyFailure) {
    super(failure.message);
    this.name = 'BodyError';
    this.status = failure.status;
    this.code = failure.code;
  }
}

const KIB = MAX_BODY_BYTES / 1024;

/** body-parser's and raw-body's error types (http-errors' `type`), mapped to our answers. */
const BY_TYPE: Record<string, BodyFailure> = {
  'entity.too.large': {
    status: 413,
    code: 'body_too_large',
    message: `request bodies are at most ${KIB} KiB`,
  },
  'parameters.too.many': {
    status: 413,
    code: 'too_many_fields',
    message: 'the form has too many fields; send only the fields of the form',
  },
  'encoding.unsupported': {
    status: 415,
    code: 'unsupported_encoding',
    message: 'this Content-Encoding is not supported: send the body as is, or gzip, deflate or br',
  },
  'charset.unsupported': {
    status: 415,
    code: 'unsupported_charset',
    message: 'this charset is not supported: send the body as UTF-8 (charset=utf-8)',
  },
  'request.aborted': {
    status: 400,
    code: 'request_aborted',
    message: 'the request was aborted before its body was read',
  },
  'request.size.invalid': {
    status: 400,
    code: 'body_length_mismatch',
    message: 'the body is not as long as its Content-Length says; send it again',
  },
  'entity.parse.failed': {
    status: 400,
    code: 'malformed_body',
    message: 'the request body could not be read',
  },
  'querystring.parse.rangeError': {
    status: 400,
    code: 'malformed_body',
    message: 'the request body could not be read',
  },
};

const BAD_COMPRESSION: BodyFailure = {
  status: 400,
  code: 'malformed_encoding',
  message: 'the body is not valid data of its Content-Encoding (gzip, deflate, br); send it again',
};

/** PostgreSQL text cannot hold NUL, and no name, reason or token of ours has one. */
export const NUL_IN_TEXT: BodyFailure = {
  status: 400,
  code: 'nul_in_text',
  message: 'a text in the request holds a NUL character (\\u0000): send the text without it',
};

/** Percent-encoded control characters (%00-%1F, %7F): no address of ours has one. */
const CONTROL_IN_PATH = /%(?:[01][0-9a-f]|7f)/i;

/** A path with an encoded control character (`%00`). */
export const CONTROL_IN_PATH_FAILURE: BodyFailure = {
  status: 400,
  code: 'malformed_path',
  message: 'the address holds an encoded control character (such as %00); check the address',
};

const MALFORMED_PATH: BodyFailure = {
  status: 400,
  code: 'malformed_path',
  message: 'the address has a malformed percent-encoding (%XX that is not UTF-8); check the address',
};

const BAD_REQUEST: BodyFailure = {
  status: 400,
  code: 'bad_request',
  message: 'the request body could not be read',
};

/**
 * What the client is told when `error` is about reading its request (a body-parser error, a
 * BodyError, a path that cannot be decoded, any other http-error meant for the client with a
 * 4xx status), or undefined when
 * it is something else (a bug of ours, a database outage). Never echoes bytes of the request:
 * body-parser's own messages can quote the charset or encoding the client sent.
 */
export function bodyFailure(error: unknown): BodyFailure | undefined {
  if (!error || typeof error !== 'object') return undefined;
  if (error instanceof BodyError) return { status: error.status, code: error.code, message: error.message };
  const { status, type, code, expose } = error as {
    status?: unknown;
    type?: unknown;
    code?: unknown;
    expose?: unknown;
  };
  if (typeof type === 'string' && type in BY_TYPE) return BY_TYPE[type];
  // The router's decodeURIComponent of a path parameter (`/connectors/%C0%AF`).
  if (error instanceof URIError && status === 400) return MALFORMED_PATH;
  // A decompression stream's error (zlib's Z_DATA_ERROR, Z_BUF_ERROR, ...), set to 400 by raw-body.
  if (status === 400 && typeof code === 'string' && /^(Z_|ERR__ERROR_)/.test(code)) return BAD_COMPRESSION;
  if (typeof status === 'number' && status >= 400 && status < 500 && expose === true)
    return { ...BAD_REQUEST, status };
  return undefined;
}

/** Whether the raw (still encoded) path holds a control character such as NUL (`%00`). */
export function pathHoldsControl(rawPath: string): boolean {
  return CONTROL_IN_PATH.test(rawPath);
}

/**
 * Whether any string of a parsed body (a JSON value, a form's fields), key or value, holds a
 * NUL character. Walks without recursion: a 64 KiB body can nest thousands of levels deep.
 */
export function holdsNul(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return true;
    } else if (Array.isArray(item)) {
      for (const inner of item as unknown[]) pending.push(inner);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, inner] of Object.entries(item)) pending.push(key, inner);
    }
  }
  return false;
}
