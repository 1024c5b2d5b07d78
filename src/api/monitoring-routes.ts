import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { Router, type Express } from 'express';
import { QUEUE_NAMES, type Queues } from '../queue/queues.ts';
import type { ServiceContext } from '../services/context.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import { requireToken, type SupplierTokenCache } from './auth.ts';
import { MAX_BODY_BYTES } from './body.ts';
import { queueBoardGuard } from './queue-board-guard.ts';
import type { Metrics } from './metrics.ts';

/** Where Nedap support opens the queue dashboard (docs/interfaces.md, "HTTP"). */
export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * Nedap support's monitoring: GET /metrics for Prometheus and the Bull Board queue dashboard,
 * both for the admin token only. Each is mounted only when what it shows is given.
 */
export function monitoringRoutes(deps: {
  services: ServiceContext;
  adminToken: string | undefined;
  cache: SupplierTokenCache;
  queues?: Queues;
  metrics?: Metrics;
  /** Counts and slows wrong tokens per client address. */
  throttle?: AuthThrottle | undefined;
}): Router {
  const router = Router();
  const { services, adminToken, cache, metrics, queues, throttle } = deps;

  if (metrics) {
    router.get(
      '/metrics',
      requireToken(services, adminToken, 'admin', cache, { throttle }),
      async (_req, res) => {
        res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
      },
    );
  }

  if (queues) {
    const board = new ExpressAdapter().setBasePath(QUEUE_BOARD_PATH);
    // Failed jobs may be retried, completed ones are not offered (their comment or certificate
    // exists already; the option is in Bull Board's code, not its types). queueBoardGuard
    // enforces what the board may change.
    const options = { allowRetries: true, allowCompletedRetries: false };
    createBullBoard({
      queues: QUEUE_NAMES.map((name) => new BullMQAdapter(queues[name], options)),
      serverAdapter: board,
    });
    const boardApp = board.getRouter() as Express;
    boardApp.disable('x-powered-by');
    router.use(
      QUEUE_BOARD_PATH,
      // A browser opens the board: the Basic challenge makes it prompt for the token (as the
      // password) and re-send it with every asset and API call of the page.
      requireToken(services, adminToken, 'admin', cache, {
        challenge: 'Basic realm="ons-certs queues"',
        throttle,
      }),
      // Parsed here (the board's own parser would take 100 KiB) so the 64 KiB limit holds too.
      express.json({ limit: MAX_BODY_BYTES }),
      queueBoardGuard(queues),
      boardApp,
    );
  }

  return router;
}
