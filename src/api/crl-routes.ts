import { Router, type Request, type Response } from 'express';
import { crlPem } from '../ca/crl.ts';
import type { Logger } from '../log.ts';
import type { CrlPublisher } from '../services/crl-publisher.ts';
import { sendError } from './http-errors.ts';

/**
 * GET /crl (DER, application/pkix-crl: the certificates' CRL distribution point) and
 * GET /crl.pem (PEM, label `X509 CRL`, for nginx `ssl_crl` and the like): the newest stored CRL,
 * the same from every web process. Caches must ask again each time (`no-cache`, with an ETag per
 * CRL number), so a disable is never hidden behind a cached copy.
 */
export function crlRoutes(deps: { crl: CrlPublisher; log: Logger }): Router {
  const router = Router();
  const serve = (format: 'der' | 'pem') => async (req: Request, res: Response) => {
    let crl;
    try {
      crl = await deps.crl.current();
    } catch (error) {
      deps.log.warn({ err: error }, 'no valid CRL to serve');
      return sendError(
        res,
        503,
        'crl_unavailable',
        'no valid CRL can be served right now; try again shortly',
      );
    }
    const etag = `"crl-${crl.number}-${format}"`;
    res.set({
      'Cache-Control': 'no-cache',
      ETag: etag,
      'Last-Modified': crl.thisUpdate.toUTCString(),
      Expires: crl.nextUpdate.toUTCString(),
    });
    // Not req.fresh: it ignores a conditional request that also says `Cache-Control: no-cache`,
    // which fetch() adds to every request with If-None-Match.
    const known = (req.get('if-none-match') ?? '').split(',').map((tag) => tag.trim().replace(/^W\//, ''));
    if (known.includes(etag)) return res.status(304).end();
    if (format === 'der') {
      return res.type('application/pkix-crl').send(crl.der);
    }
    res.type('application/x-pem-file').send(crlPem(crl.der));
  };
  router.get('/crl', serve('der'));
  router.get('/crl.pem', serve('pem'));
  return router;
}
