import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { MAX_BODY_BYTES } from '../api/body.ts';
import { BodyError, holdsNul, NUL_IN_TEXT } from '../api/body-errors.ts';
import { readMultipart } from '../api/multipart.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** The files of a multipart form, by field name (the first file of each). */
    formFiles?: Map<string, Buffer>;
  }
}

const urlencoded = express.urlencoded({ extended: false, limit: MAX_BODY_BYTES, parameterLimit: 50 });

/**
 * A plain form (`application/x-www-form-urlencoded`), at most 64 KiB as sent. A field that
 * holds NUL (`%00`) is a 400 (`nul_in_text`): PostgreSQL would refuse it with a 500.
 */
export const plainForm: RequestHandler = (req, res, next) => {
  urlencoded(req, res, (error?: unknown) => {
    if (error) return next(error);
    next(holdsNul(req.body) ? new BodyError(NUL_IN_TEXT) : undefined);
  });
};

/**
 * A form with a file input (`multipart/form-data`), at most 64 KiB as sent, read whole before
 * anything else happens (its CSRF field is checked like any other form's). Fields land in
 * `req.body`, files in `req.formFiles`.
 */
export const fileForm: RequestHandler[] = [
  express.raw({ type: 'multipart/form-data', limit: MAX_BODY_BYTES }),
  (req: Request, _res: Response, next: NextFunction) => {
    const raw = req.body as unknown;
    req.body = {};
    req.formFiles = new Map();
    if (!Buffer.isBuffer(raw) || raw.length === 0) return next();
    // A form that cannot be read is a 400 page (src/web/page-errors.ts), before its CSRF check.
    readMultipart(req.headers, raw).then(({ fields, files }) => {
      req.body = fields;
      req.formFiles = files;
      next();
    }, next);
  },
];

/** A form field's text, or undefined when it is missing (or sent twice). */
export function formField(req: Request, name: string): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const value = body && typeof body === 'object' ? body[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}
