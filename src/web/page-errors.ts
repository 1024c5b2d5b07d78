import type { ErrorRequestHandler, Request, Response } from 'express';
import { MAX_BODY_BYTES } from '../api/body.ts';
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

/** Errors of the page routes as pages: a too large upload (413), an unreadable form, our bugs. */
export function pageErrors(auth: PageAuth, log: Logger): ErrorRequestHandler {
  return (error: { status?: number; type?: string }, req, res, _next) => {
    if (res.headersSent) return;
    if (error.status === 413 || error.type === 'entity.too.large') {
      return sendPage(res, 413, 'error', {
        title: 'The file is too large',
        ...auth.layout(req),
        message: `A form may send at most ${MAX_BODY_BYTES / 1024} KiB. A CSR is a few KiB: choose the CSR file (often named .csr), not another file.`,
        next: 'Go back and choose the CSR file.',
      });
    }
    if (error.status === 400) {
      return sendPage(res, 400, 'error', {
        title: 'The form could not be read',
        ...auth.layout(req),
        message: 'What the browser sent was not a form this page understands.',
        next: 'Go back, reload the page, and send the form again.',
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
