import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { CertificateAuthority } from '../ca/certificate-authority.ts';
import type { Logger } from '../log.ts';
import type { Queues } from '../queue/queues.ts';
import type { ServiceContext } from '../services/context.ts';
import { isDatabaseOutage } from '../services/database-outage.ts';
import { SupplierTokenCache } from './auth.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import { BodyError, bodyFailure, CONTROL_IN_PATH_FAILURE, pathHoldsControl } from './body-errors.ts';
import { dashboardRoutes } from './dashboard-routes.ts';
import { sendError } from './http-errors.ts';
import type { Metrics } from './metrics.ts';
import { monitoringRoutes } from './monitoring-routes.ts';

export interface HttpDependencies {
  ca: CertificateAuthority;
  log: Logger;
  services: ServiceContext;
  adminToken: string | undefined;
  /** Each named check throws when its service does not answer. */
  health: Record<string, () => Promise<void>>;
  /** The GitHub webhook endpoint (src/bot/webhook-route.ts); it reads its own raw body. */
  webhooks?: RequestHandler;
  /** Shown on the queue dashboard (/admin/queues) and counted in /metrics. */
  queues?: Queues;
  /** Served at GET /metrics. */
  metrics?: Metrics;
  /** GET /crl and /crl.pem (src/api/crl-routes.ts). */
  crl?: RequestHandler;
  /** The supplier's web pages (src/web/page-routes.ts): /, /login, /logout, /connectors/… */
  pages?: RequestHandler;
  /** Counts and slows wrong API tokens per client address (src/api/auth-throttle.ts). */
  authThrottle?: AuthThrottle;
}

/** The HTTP surface: CA, health, the dashboard and admin APIs. */
export function createHttpApp(deps: HttpDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // No address of ours holds a control character: `%00` would reach PostgreSQL, which
  // refuses NUL in text with an error (a 500), from any route that looks a name up.
  app.use((req, _res, next) =>
    next(pathHoldsControl(req.path) ? new BodyError(CONTROL_IN_PATH_FAILURE) : undefined),
  );
  // Then: the signature is checked over the body exactly as sent.
  if (deps.webhooks) app.use(deps.webhooks);

  app.get('/ca.pem', (_req, res) => {
    res.type('application/x-pem-file').set('Cache-Control', 'public, max-age=300').send(deps.ca.chainPem);
  });
  if (deps.crl) app.use(deps.crl);

  app.get('/healthz', async (_req, res) => {
    const results = await Promise.all(
      Object.entries(deps.health).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 3000);
          return [name, 'ok'] as const;
        } catch (error) {
          deps.log.warn({ check: name, err: error }, `health check failed: ${name} does not answer`);
          return [name, 'failed'] as const;
        }
      }),
    );
    const failed = results.filter(([, state]) => state === 'failed').map(([name]) => name);
    res.status(failed.length === 0 ? 200 : 503).json({
      status: failed.length === 0 ? 'ok' : 'unavailable',
      ...Object.fromEntries(results),
      ...(failed.length > 0 ? { failed } : {}),
    });
  });

  app.use(
    monitoringRoutes({
      services: deps.services,
      adminToken: deps.adminToken,
      cache: new SupplierTokenCache(),
      queues: deps.queues,
      metrics: deps.metrics,
      throttle: deps.authThrottle,
    }),
  );
  app.use(dashboardRoutes(deps.services, deps.adminToken, deps.authThrottle));
  if (deps.pages) app.use(deps.pages);

  app.use((_req, res) => sendError(res, 404, 'not_found', 'no such resource'));

  const onError: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    if (res.headersSent) return;
    // An unreadable request (body: bad encoding or charset, cut off, malformed form, too large;
    // a path that cannot be decoded): the client's to fix. One warn line with the code; never the body, never a stack trace.
    const failure = bodyFailure(error);
    if (failure) {
      deps.log.warn(
        { code: failure.code, method: req.method, path: req.path },
        'request refused: unreadable request',
      );
      return sendError(res, failure.status, failure.code, failure.message);
    }
    if (isDatabaseOutage(error)) {
      // A database restart: the pool opens new connections, so the same request soon works.
      deps.log.warn(
        { err: error, method: req.method, path: req.path },
        'request failed: no database connection',
      );
      res.set('Retry-After', '2');
      return sendError(
        res,
        503,
        'database_unavailable',
        'the database could not be reached; try again in a moment',
      );
    }
    deps.log.error({ err: error, method: req.method, path: req.path }, 'request failed');
    sendError(res, 500, 'internal', 'something went wrong on our side; try again');
  };
  app.use(onError);
  return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref(),
    ),
  ]);
}
