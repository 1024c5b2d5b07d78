import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Actor } from '../services/actor.ts';
import type { ServiceContext } from '../services/context.ts';
import { supplierForToken } from '../services/suppliers.ts';
import { tokensEqual } from '../services/tokens.ts';
import { sendError } from './http-errors.ts';

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
  }
}

/** The token of `Authorization: Bearer <token>` (or, for browsers, HTTP basic's password). */
export function presentedToken(req: Request): string | undefined {
  const header = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

/** Who the token belongs to: Nedap support (ADMIN_TOKEN), a supplier, or nobody. */
export async function actorForToken(
  ctx: ServiceContext,
  adminToken: string | undefined,
  token: string,
): Promise<Actor | undefined> {
  if (adminToken && tokensEqual(token, adminToken)) return { kind: 'admin' };
  const supplier = await supplierForToken(ctx, token);
  return supplier ? { kind: 'supplier', supplierId: supplier.id } : undefined;
}

const unauthorized = (res: Response) => {
  res.set('WWW-Authenticate', 'Bearer realm="ons-certs"');
  sendError(res, 401, 'unauthorized', 'send a valid token as Authorization: Bearer <token>');
};

/** Requires a supplier's token or the admin token; `adminOnly` answers 403 to suppliers. */
export function requireToken(
  ctx: ServiceContext,
  adminToken: string | undefined,
  who: 'any' | 'admin' | 'supplier',
): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = presentedToken(req);
    const actor = token ? await actorForToken(ctx, adminToken, token) : undefined;
    if (!actor) return unauthorized(res);
    if (who === 'admin' && actor.kind !== 'admin') {
      return sendError(
        res,
        403,
        'forbidden',
        "this is Nedap support's API; a supplier's token cannot use it",
      );
    }
    if (who === 'supplier' && actor.kind !== 'supplier') {
      return sendError(
        res,
        403,
        'forbidden',
        "use a supplier's token: this acts on the supplier's own connectors",
      );
    }
    req.actor = actor;
    next();
  };
}
