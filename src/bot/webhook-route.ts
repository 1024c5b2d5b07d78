import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { createNodeMiddleware, type ApplicationFunction, type Probot } from 'probot';
import { MAX_BODY_BYTES } from '../api/body.ts';
import { sendError } from '../api/http-errors.ts';
import type { Logger } from '../log.ts';
import { deliveryProblem } from './delivery-shape.ts';

/** Probot's webhook path (interfaces.md). */
export const WEBHOOK_PATH = '/api/github/webhooks';

const readBody = express.raw({ type: () => true, limit: MAX_BODY_BYTES });
const JSON_TYPE = /^\s*application\/json\s*(;|$)/i;
const SIGNATURE = /^sha256=[0-9a-f]{64}$/i;
const EVENT_NAME = /^[a-z][a-z_]{0,63}$/;

/** A header's single value, or undefined when it is missing, empty, or sent more than once. */
function single(req: Request, name: string): string | undefined {
  const values = req.headersDistinct[name];
  return values?.length === 1 && values[0] !== '' ? values[0] : undefined;
}

/** A header value as it may appear in a log line: short and printable. */
function printable(value: string | undefined): string | undefined {
  return value?.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}

/**
 * The webhook endpoint. The body is read with the API's 64 KiB limit (Probot's own reader has
 * none); the delivery's headers, its signature and its JSON are checked here, before Probot
 * sees it: Probot logs a failed verification at error level with the whole payload (twice),
 * so a stream of wrongly signed deliveries would flood the log with bytes anyone can send.
 * Here each refusal is one warn line (delivery id, event, remote address) and a 4xx answer
 * with a code. Only a verified JSON object of the shape the handlers read
 * (src/bot/delivery-shape.ts) goes on to Probot, which checks the signature again and runs
 * the handlers. It must be mounted before any other body parser. Without the
 * GitHub App it answers 503.
 */
export async function webhookRoute(
  app: { probot: Probot; appFn: ApplicationFunction; log?: Logger } | undefined,
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
  const webhooks = app.probot.webhooks;
  const log = app.log ?? (app.probot.log as unknown as Logger);

  return (req: Request, res: Response, next: NextFunction) => {
    if (req.path !== WEBHOOK_PATH) return next();
    const delivery = printable(single(req, 'x-github-delivery'));
    const event = printable(single(req, 'x-github-event'));
    const refuse = (status: number, code: string, message: string) => {
      log.warn({ code, delivery, event, remote: req.socket.remoteAddress }, `webhook refused: ${code}`);
      sendError(res, status, code, message);
    };
    if (req.method !== 'POST') {
      res.set('Allow', 'POST');
      return refuse(405, 'method_not_allowed', 'GitHub delivers webhooks with POST');
    }
    // Unreadable bodies (too large, bad encoding) go to the app's error handler: 4xx, one warn line.
    readBody(req, res, (error?: unknown) => {
      if (error) return next(error);
      const raw = Buffer.isBuffer(req.body) ? (req.body as Buffer) : Buffer.alloc(0);
      if (!JSON_TYPE.test(single(req, 'content-type') ?? ''))
        return refuse(
          415,
          'unsupported_media_type',
          'a webhook delivery is JSON: content-type application/json',
        );
      const missing = ['x-github-event', 'x-github-delivery', 'x-hub-signature-256'].filter(
        (name) => single(req, name) === undefined,
      );
      if (missing.length > 0)
        return refuse(
          400,
          'webhook_headers_missing',
          `a GitHub delivery has each of these headers once: ${missing.join(', ')}`,
        );
      // GitHub's event names (issues, issue_comment, ...); Probot fails with a 500 on others.
      if (!EVENT_NAME.test(single(req, 'x-github-event') ?? ''))
        return refuse(400, 'webhook_event_invalid', 'X-GitHub-Event is not the name of a GitHub event');
      const signature = single(req, 'x-hub-signature-256') ?? '';
      if (!SIGNATURE.test(signature))
        return refuse(
          400,
          'webhook_signature_malformed',
          'X-Hub-Signature-256 is not sha256= followed by 64 hexadecimal digits',
        );
      const payload = raw.toString('utf8');
      void verified(payload, signature)
        .then((ok) => {
          if (!ok)
            return refuse(
              400,
              'webhook_signature_invalid',
              "the signature does not match the payload and the webhook secret (check WEBHOOK_SECRET against the GitHub App's)",
            );
          const object = jsonObject(payload);
          if (!object)
            return refuse(400, 'webhook_payload_invalid', 'the payload of a delivery is a JSON object');
          const problem = deliveryProblem(single(req, 'x-github-event') ?? '', object);
          if (problem) return refuse(400, 'webhook_payload_invalid', problem);
          req.body = payload;
          return Promise.resolve(middleware(req, res, next));
        })
        .catch(next);
    });
  };

  /** Whether `signature` is GitHub's HMAC-SHA256 of the payload with our secret (constant time). */
  async function verified(payload: string, signature: string): Promise<boolean> {
    try {
      return await webhooks.verify(payload, signature);
    } catch {
      return false;
    }
  }
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
