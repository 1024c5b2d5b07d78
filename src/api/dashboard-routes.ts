import { Router } from 'express';
import { isRequestState, REQUEST_STATES } from '../core/request-state.ts';
import type { Actor } from '../services/actor.ts';
import { setCertificateEnabled } from '../services/certificates.ts';
import { approveVersion, createConnector, createVersion, listConnectors } from '../services/connectors.ts';
import type { ServiceContext } from '../services/context.ts';
import { addEnvironment, listEnvironments } from '../services/environments.ts';
import { deleteEnvironment } from '../services/delete-line.ts';
import { currentCertificate, listRequests } from '../services/requests.ts';
import { uploadCsr } from '../services/upload-csr.ts';
import { createSupplier } from '../services/suppliers.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import { requireToken, SupplierTokenCache } from './auth.ts';
import { csrBody, jsonBody, rawBody } from './body.ts';
import { sendError, sendOutcome } from './http-errors.ts';

type Params = Record<string, string>;

/** Why a line is not deleted: a conflict with its state, not a wrong request. */
const LINE_KEPT = new Set(['line_has_certificates', 'line_has_ticket']);

/**
 * The dashboard's JSON API and Nedap support's admin API (docs/interfaces.md, "HTTP"); wrong
 * tokens are counted and slowed by `throttle`.
 */
export function dashboardRoutes(
  ctx: ServiceContext,
  adminToken: string | undefined,
  throttle?: AuthThrottle,
): Router {
  const router = Router();
  const tokens = new SupplierTokenCache();
  const admin = requireToken(ctx, adminToken, 'admin', tokens, { throttle });
  const supplier = requireToken(ctx, adminToken, 'supplier', tokens, { throttle });
  const anyone = requireToken(ctx, adminToken, 'any', tokens, { throttle });
  const actorOf = (req: { actor?: Actor }): Actor => req.actor!;

  router.post('/api/admin/suppliers', admin, rawBody, async (req, res) => {
    sendOutcome(res, await createSupplier(ctx, actorOf(req), jsonBody(req) ?? {}), 201);
  });

  router.post(
    '/api/admin/connectors/:technicalName/versions/:version/approve',
    admin,
    rawBody,
    async (req, res) => {
      const { technicalName, version } = req.params as Params;
      sendOutcome(res, await approveVersion(ctx, { kind: 'admin' }, technicalName!, version!));
    },
  );

  router.get('/api/admin/requests', admin, async (req, res) => {
    const state = typeof req.query.state === 'string' ? req.query.state : 'awaiting_approval';
    if (!isRequestState(state)) {
      return sendError(res, 422, 'invalid_state', `state must be one of ${REQUEST_STATES.join(', ')}`);
    }
    res.json(await listRequests(ctx, state));
  });

  router.post('/api/connectors', supplier, rawBody, async (req, res) => {
    const outcome = await createConnector(
      ctx,
      actorOf(req) as Extract<Actor, { kind: 'supplier' }>,
      jsonBody(req) ?? {},
    );
    sendOutcome(res, outcome, 201);
  });

  router.get('/api/connectors', anyone, async (req, res) => {
    res.json(await listConnectors(ctx, actorOf(req)));
  });

  router.post('/api/connectors/:technicalName/versions', anyone, rawBody, async (req, res) => {
    const { technicalName } = req.params as Params;
    sendOutcome(res, await createVersion(ctx, actorOf(req), technicalName!, jsonBody(req) ?? {}), 201);
  });

  const line = '/api/connectors/:technicalName/versions/:version/environments';
  router.get(line, anyone, async (req, res) => {
    const { technicalName, version } = req.params as Params;
    sendOutcome(
      res,
      await listEnvironments(ctx, actorOf(req), { technicalName: technicalName!, version: version! }),
    );
  });

  router.post(line, anyone, rawBody, async (req, res) => {
    const { technicalName, version } = req.params as Params;
    const where = { technicalName: technicalName!, version: version! };
    sendOutcome(res, await addEnvironment(ctx, actorOf(req), where, jsonBody(req) ?? {}), 201);
  });

  // A line added by mistake: 204, or 409 while it has (had) a certificate or a ticket asks for it.
  router.delete(`${line}/:customerCode`, anyone, async (req, res) => {
    const { technicalName, version, customerCode } = req.params as Params;
    const where = { technicalName: technicalName!, version: version!, customerCode: customerCode! };
    const outcome = await deleteEnvironment(ctx, actorOf(req), where);
    if (outcome.ok) return res.status(204).end();
    const kept = outcome.failures.find((f) => LINE_KEPT.has(f.code));
    if (kept) return sendError(res, 409, kept.code, kept.message);
    sendOutcome(res, outcome);
  });

  router.put(`${line}/:customerCode/csr`, anyone, rawBody, async (req, res) => {
    const { technicalName, version, customerCode } = req.params as Params;
    const where = { technicalName: technicalName!, version: version!, customerCode: customerCode! };
    sendOutcome(res, await uploadCsr(ctx, actorOf(req), where, await csrBody(req)), 201);
  });

  router.get(`${line}/:customerCode/certificate.pem`, anyone, async (req, res) => {
    const { technicalName, version, customerCode } = req.params as Params;
    const where = { technicalName: technicalName!, version: version!, customerCode: customerCode! };
    const outcome = await currentCertificate(ctx, actorOf(req), where);
    if (!outcome.ok) return sendOutcome(res, outcome);
    res.attachment(`${outcome.value.commonName}.pem`).type('application/x-pem-file').send(outcome.value.pem);
  });

  router.patch('/api/certificates/:serial', anyone, rawBody, async (req, res) => {
    const { serial } = req.params as Params;
    sendOutcome(res, await setCertificateEnabled(ctx, actorOf(req), serial!, jsonBody(req) ?? {}));
  });

  return router;
}
