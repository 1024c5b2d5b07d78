import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Actor } from '../services/actor.ts';
import type { ServiceContext } from '../services/context.ts';
import { supplierForToken } from '../services/suppliers.ts';
import { hashToken, tokensEqual } from '../services/tokens.ts';
import type { AuthThrottle } from './auth-throttle.ts';
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

/** Recently seen supplier tokens (by hash) and whose they are, for a minute. */
export class SupplierTokenCache {
  private readonly entries = new Map<string, { supplierId: string; until: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(ttlMs = 60_000, maxEntries = 10_000) {
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
  }

  get(token: string, now: number): string | undefined {
    const key = hashToken(token);
    const entry = this.entries.get(key);
    if (entry && entry.until > now) return entry.supplierId;
    if (entry) this.entries.delete(key);
    return undefined;
  }

  set(token: string, supplierId: string, now: number): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(hashToken(token), { supplierId, until: now + this.ttlMs });
  }
}

/**
 * Who the token belongs to: Nedap support (ADMIN_TOKEN), a supplier, or nobody. A supplier's
 * token is looked up in the database once a minute at most (tokens are never changed or revoked
 * in place), sparing a query on every call; unknown tokens are never remembered.
 */
export async function actorForToken(
  ctx: ServiceContext,
  adminToken: string | undefined,
  token: string,
  cache: SupplierTokenCache,
): Promise<Actor | undefined> {
  if (adminToken && tokensEqual(token, adminToken)) return { kind: 'admin' };
  const now = Date.now();
  const cached = cache.get(token, now);
  if (cached) return { kind: 'supplier', supplierId: cached };
  const supplier = await supplierForToken(ctx, token);
  if (!supplier) return undefined;
  cache.set(token, supplier.id, now);
  return { kind: 'supplier', supplierId: supplier.id };
}

const unauthorized = (res: Response, challenge: string) => {
  res.set('WWW-Authenticate', challenge);
  sendError(res, 401, 'unauthorized', 'send a valid token as Authorization: Bearer <token>');
};

/** 429 `too_many_attempts` with Retry-After: the address failed too often, its token was not looked at. */
export function sendTooManyAttempts(res: Response, seconds: number): void {
  res.set('Retry-After', String(seconds));
  sendError(
    res,
    429,
    'too_many_attempts',
    `too many wrong tokens came from your address; try again in ${seconds} s (Retry-After)`,
  );
}

/**
 * Requires a token; `admin` answers 403 to suppliers, `supplier` answers 403 to the admin.
 * `challenge` is the 401's WWW-Authenticate: pages meant for a browser ask for HTTP basic, so
 * that the browser prompts for the token (as the password) instead of showing the error.
 * `throttle` counts wrong tokens per client address, and answers 429 to an address that
 * presents a token after too many wrong ones (a request without a token guesses nothing).
 */
export function requireToken(
  ctx: ServiceContext,
  adminToken: string | undefined,
  who: 'any' | 'admin' | 'supplier',
  cache: SupplierTokenCache,
  {
    challenge = 'Bearer realm="ons-certs"',
    throttle,
  }: { challenge?: string; throttle?: AuthThrottle | undefined } = {},
): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (who === 'admin' && !adminToken) {
      return sendError(
        res,
        403,
        'admin_api_off',
        'the admin API is off: start the service with ADMIN_TOKEN set',
      );
    }
    const token = presentedToken(req);
    if (token && throttle) {
      const wait = await throttle.waitFor(req.ip, 'api_token');
      if (wait !== undefined) return sendTooManyAttempts(res, wait);
    }
    const actor = token ? await actorForToken(ctx, adminToken, token, cache) : undefined;
    if (!actor) {
      if (token) await throttle?.failed(req.ip, 'api_token');
      return unauthorized(res, challenge);
    }
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
