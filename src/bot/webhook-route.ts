import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { createNodeMiddleware, type ApplicationFunction, type Probot } from 'probot';
import { MAX_BODY_BYTES } from '../api/body.ts';
import { sendError } from '../api/http-errors.ts';

/** Probot's webhook path (interfaces.md). */
export const WEBHOOK_PATH = '/api/github/webhooks';

const readBody = express.raw({ type: () => true, limit: MAX_BODY_BYTES });

/**
 * The webhook endpoint: the body is read with the API's 64 KiB limit (Probot's own reader has
 * none) and handed to Probot as text, which checks the signature before any handler runs. It
 * must be mounted before any JSON body parser. Without the GitHub App it answers 503.
 */
export async function webhookRoute(
  app: { probot: Probot; appFn: ApplicationFunction } | undefined,
): Promise<RequestHandler> {
  if (!app) {
    return (req, res, next) => {
      if (req.path !== WEBHOOK_PATH) return next();
      sendError(
        res,
        503,
        'bot_off',
        'the GitHub App is not configured on this service: the ticket bot is off',
      );
    };
  }
  const middleware = await createNodeMiddleware(app.appFn, {
    probot: app.probot,
    webhooksPath: WEBHOOK_PATH,
  });
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.path !== WEBHOOK_PATH) return next();
    readBody(req, res, (error?: unknown) => {
      if (error) return next(error);
      const raw = Buffer.isBuffer(req.body) ? (req.body as Buffer) : Buffer.alloc(0);
      req.body = raw.toString('utf8');
      void Promise.resolve(middleware(req, res, next)).catch(next);
    });
  };
}
