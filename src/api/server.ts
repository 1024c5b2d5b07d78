import express, { type ErrorRequestHandler, type Express } from 'express';
import type { CertificateAuthority } from '../ca/certificate-authority.ts';
import type { Logger } from '../log.ts';

export interface HttpDependencies {
  ca: CertificateAuthority;
  log: Logger;
}

/** The HTTP surface. Later capabilities mount their routes here. */
export function createHttpApp(deps: HttpDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.get('/ca.pem', (_req, res) => {
    res.type('application/x-pem-file').set('Cache-Control', 'public, max-age=300').send(deps.ca.chainPem);
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.use((_req, res) => {
    res.status(404).json({ errors: [{ code: 'not_found', message: 'no such resource' }] });
  });

  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    deps.log.error({ err: error, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) return;
    res
      .status(500)
      .json({ errors: [{ code: 'internal', message: 'something went wrong on our side; try again' }] });
  };
  app.use(onError);
  return app;
}
