import type { ErrorRequestHandler, Request, Response } from 'express';
import { MAX_BODY_BYTES } from '../api/body.ts';
import { bodyFailure } from '../api/body-errors.ts';
import type { Logger } from '../log.ts';
import type { PageAuth } from './page-auth.ts';
import { sendPage } from './render.ts';

/**
 * The 404 page: for what does not exist and, alike, for what belongs to another supplier, so
 * that a page never tells whether someone else's connector exists.
 */
export function sendNotFound(auth: PageAuth, req: Request, res: Response): void {
  sendPage(res, 404, 'error', {
    title: 'Page not found',
    ...auth.layout(req),
    message: 'There is no such page, or it belongs to another supplier.',
    next: 'Check the address, or start from your connectors.',
  });
}

/** The page for each kind of unreadable request (the API answers the same cases as JSON). */
function unreadablePage(status: number, code: string): { title: string; message: string; next: string } {
  if (code === 'malformed_path')
    return {
      title: 'The address is not valid',
      message: 'The address has characters encoded in a way this site does not understand.',
      next: 'Check the address, or start from your connectors.',
    };
  if (code === 'nul_in_text')
    return {
      title: 'The form could not be read',
      message: 'A field of the form holds a NUL character, which no field of this site takes.',
      next: 'Go back, remove it (it often comes with pasted text), and send the form again.',
    };
  if (status === 413)
    return {
      title: 'The file is too large',
      message: `A form may send at most ${MAX_BODY_BYTES / 1024} KiB. A CSR is a few KiB: choose the CSR file (often named .csr), not another file.`,
      next: 'Go back and choose the CSR file.',
    };
  if (status === 415)
    return {
      title: 'The form could not be read',
      message: 'The browser sent the form in an encoding or character set this page does not support.',
      next: 'Go back, reload the page, and send the form again from an up-to-date browser.',
    };
  return {
    title: 'The form could not be read',
    message: 'What the browser sent was not a complete form this page understands.',
    next: 'Go back, reload the page, and send the form again.',
  };
}

/**
 * Errors of the page routes as pages: an unreadable or too large form (400, 413, 415: one warn
 * line with the code, never the bytes sent), our bugs (500).
 */
export function pageErrors(auth: PageAuth, log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (res.headersSent) return;
    const failure = bodyFailure(error);
    if (failure) {
      log.warn(
        { code: failure.code, method: req.method, path: req.path },
        'page request refused: unreadable request',
      );
      return sendPage(res, failure.status, 'error', {
        ...unreadablePage(failure.status, failure.code),
        ...auth.layout(req),
      });
    }
    log.error({ err: error, method: req.method, path: req.path }, 'page request failed');
    sendPage(res, 500, 'error', {
      title: 'Something went wrong on our side',
      ...auth.layout(req),
      message: 'The page could not be shown. Nothing you did caused this.',
      next: 'Try again in a moment; if it keeps happening, tell Nedap support.',
    });
  };
}
