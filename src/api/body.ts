import busboy from 'busboy';
import express, { type Request } from 'express';

/** Every API request body is at most 64 KiB as sent; more is answered with 413. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Reads the raw body (any content type) with the limit; JSON and CSRs are parsed per route. */
export const rawBody = express.raw({ type: () => true, limit: MAX_BODY_BYTES });

/** The JSON object of the body, or undefined when it is not one. */
export function jsonBody(req: Request): Record<string, unknown> | undefined {
  const body = req.body as unknown;
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The CSR of an upload: the body itself (text/plain, application/pkcs10, a PEM file), the
 * `csr` field or file of a multipart form, or `{"csr": "..."}` in JSON.
 */
export async function csrBody(req: Request): Promise<Buffer> {
  const body = Buffer.isBuffer(req.body) ? (req.body as Buffer) : Buffer.alloc(0);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data'))
    return (await multipartField(req, body, 'csr')) ?? Buffer.alloc(0);
  if (type.startsWith('application/json')) {
    const csr = jsonBody(req)?.csr;
    return Buffer.from(typeof csr === 'string' ? csr : '');
  }
  return body;
}

function multipartField(req: Request, body: Buffer, name: string): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    let found: Buffer | undefined;
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 2, fields: 20, fileSize: MAX_BODY_BYTES } });
    } catch {
      return resolve(undefined);
    }
    parser.on('file', (field, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (field === name && !found) found = Buffer.concat(chunks);
      });
    });
    parser.on('field', (field, value) => {
      if (field === name && !found) found = Buffer.from(value);
    });
    parser.on('close', () => resolve(found));
    parser.on('error', () => resolve(undefined));
    parser.end(body);
  });
}
