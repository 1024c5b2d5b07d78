import express, { type Request } from 'express';
import { BodyError, holdsNul, NUL_IN_TEXT } from './body-errors.ts';
import { MAX_BODY_BYTES } from './body-limit.ts';
import { invalidJson, notAnObject } from './invalid-json.ts';
import { readMultipart } from './multipart.ts';

export { MAX_BODY_BYTES };

/** Reads the raw body (any content type) with the limit; JSON and CSRs are parsed per route. */
export const rawBody = express.raw({ type: () => true, limit: MAX_BODY_BYTES });

/**
 * The JSON object of the body, or undefined when there is no body. Throws a BodyError: 400
 * `invalid_json` when the body is not JSON, or JSON but not an object (answering such a body as
 * one without fields would blame a field, "" is not a customer code, for a syntax error); 400
 * `nul_in_text` when a string in it holds NUL (PostgreSQL would refuse it with a 500).
 */
export function jsonBody(req: Request): Record<string, unknown> | undefined {
  const body = req.body as unknown;
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw invalidJson(error);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw notAnObject();
  if (holdsNul(value)) throw new BodyError(NUL_IN_TEXT);
  return value as Record<string, unknown>;
}

/**
 * The CSR of an upload: the body itself (text/plain, application/pkcs10, a PEM file), the
 * `csr` file or field of a multipart form, or `{"csr": "..."}` in JSON. A multipart form that
 * cannot be read rejects with a BodyError (400 `malformed_multipart` and the like).
 */
export async function csrBody(req: Request): Promise<Buffer> {
  const body = Buffer.isBuffer(req.body) ? (req.body as Buffer) : Buffer.alloc(0);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    // No body at all is no CSR (the upload says what is missing), not a broken form.
    if (body.length === 0) return body;
    const form = await readMultipart(req.headers, body);
    const field = form.fields['csr'];
    return form.files.get('csr') ?? Buffer.from(field ?? '');
  }
  if (type.startsWith('application/json')) {
    const csr = jsonBody(req)?.csr;
    return Buffer.from(typeof csr === 'string' ? csr : '');
  }
  return body;
}
