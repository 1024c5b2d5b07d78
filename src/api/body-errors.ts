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

const BAD_REQUEST: BodyFailure = {
  status: 400,
  code: 'bad_request',
  message: 'the request body could not be read',
};

/**
 * What the client is told when `error` is about reading its request (a body-parser error, a
 * BodyError, any other http-error meant for the client with a 4xx status), or undefined when
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
  // A decompression stream's error (zlib's Z_DATA_ERROR, Z_BUF_ERROR, ...), set to 400 by raw-body.
  if (status === 400 && typeof code === 'string' && /^(Z_|ERR__ERROR_)/.test(code)) return BAD_COMPRESSION;
  if (typeof status === 'number' && status >= 400 && status < 500 && expose === true)
    return { ...BAD_REQUEST, status };
  return undefined;
}
