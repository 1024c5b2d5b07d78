import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Actor } from '../services/actor.ts';
import type { ServiceContext } from '../services/context.ts';
import { endSession, signedInSupplier } from '../services/sessions.ts';
import { parseCookies, serializeCookie, sessionCookieName } from './cookies.ts';
import { expiredFormReturn } from './expired-form.ts';
import { formField } from './forms.ts';
import { localPath } from './local-path.ts';
import { paths } from './paths.ts';
import { sendPage, type Layout } from './render.ts';
import {
  csrfToken,
  csrfTokenValid,
  decodeSession,
  encodeSession,
  newSession,
  type Session,
  type SessionKeys,
} from './session.ts';

declare module 'express-serve-static-core' {
  interface Request {
    webSession?: Session;
    /** The signed-in supplier, looked up again on every request. */
    supplier?: { id: string; name: string };
  }
}

/** The hidden field every form carries its CSRF token in. */
export const CSRF_FIELD = '_csrf';

/** Sessions of the web pages: the signed cookie, the supplier behind it, CSRF checks. */
export class PageAuth {
  private readonly ctx: ServiceContext;
  private readonly keys: SessionKeys;
  private readonly secure: boolean;
  private readonly cookieName: string;

  constructor(ctx: ServiceContext, keys: SessionKeys, secure: boolean) {
    this.ctx = ctx;
    this.keys = keys;
    this.secure = secure;
    this.cookieName = sessionCookieName(secure);
  }

  /**
   * Reads the session cookie. A signed-in session counts only while its supplier still exists
   * and it was not signed out: both are asked of the database on every request, in one query.
   * A cookie that does not count is as no cookie: the sign-in page starts a new session.
   */
  readonly load: RequestHandler = async (req, _res, next) => {
    const cookie = parseCookies(req.headers.cookie).get(this.cookieName);
    const session = decodeSession(this.keys, cookie, this.ctx.now());
    if (session?.supplierId) {
      const supplier = await signedInSupplier(this.ctx, session.supplierId, session.nonce);
      if (!supplier || supplier.ended) return next();
      req.supplier = { id: supplier.id, name: supplier.name };
    }
    if (session) req.webSession = session;
    next();
  };

  /**
   * Pages for signed-in suppliers; anyone else is sent to the sign-in page (and back after). A
   * form sent without a session (it expired while the page was open) is not acted on: the
   * sign-in page says so, and leads back to the tab the form is on (known from its address).
   */
  readonly require: RequestHandler = (req, res, next) => {
    if (req.supplier && req.webSession) return next();
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (isCrossSiteNavigation(req)) return reload(req, res);
      return res.redirect(303, `${paths.login}?next=${encodeURIComponent(req.originalUrl)}`);
    }
    const back = expiredFormReturn(req.originalUrl.split('?')[0]!);
    if (!back) return res.redirect(303, `${paths.login}?expired=form`);
    res.redirect(303, `${paths.login}?expired=${back.form}&next=${encodeURIComponent(back.next)}`);
  };

  /** Refuses (403 page) a form whose CSRF token is missing or not this session's. */
  readonly checkCsrf: RequestHandler = (req, res, next) => {
    if (csrfTokenValid(this.keys, req.webSession, formField(req, CSRF_FIELD))) return next();
    sendPage(res, 403, 'error', {
      title: 'This form cannot be accepted',
      ...this.layout(req),
      message:
        'The form did not carry this session’s security token: it may have been open too long, ' +
        'the session may have ended, or it came from another site.',
      next: 'Go back, reload the page, and send the form again.',
    });
  };

  /** Starts a new session (a new nonce, so a new CSRF token) and sets its cookie. */
  start(res: Response, supplierId: string | undefined): Session {
    const session = newSession(supplierId, this.ctx.now(), this.ctx.randomBytes);
    const maxAge = session.expiresAt - session.issuedAt;
    res.append(
      'Set-Cookie',
      serializeCookie(this.cookieName, encodeSession(this.keys, session), { maxAge, secure: this.secure }),
    );
    return session;
  }

  /**
   * Signs a session out: on the server first (its nonce is recorded as ended, so that a copy of
   * the cookie no longer works), then the cookie is removed from this browser.
   */
  async end(res: Response, session: Session | undefined): Promise<void> {
    // An anonymous session (only the sign-in form) has nothing to end; recording it would only
    // let anyone fill the table.
    if (session?.supplierId) {
      await endSession(this.ctx, session.nonce, new Date(session.expiresAt * 1000));
    }
    res.append('Set-Cookie', serializeCookie(this.cookieName, '', { maxAge: 0, secure: this.secure }));
  }

  csrf(session: Session): string {
    return csrfToken(this.keys, session);
  }

  /** The layout's supplier and CSRF token for this request. */
  layout(req: Request): Pick<Layout, 'supplier' | 'csrf'> {
    return {
      supplier: req.supplier,
      csrf: req.webSession ? this.csrf(req.webSession) : undefined,
    };
  }
}

/** The supplier acting on a page (after `PageAuth.require`). */
export function supplierActor(req: Request): Extract<Actor, { kind: 'supplier' }> {
  return { kind: 'supplier', supplierId: req.supplier!.id };
}

/**
 * A link from another site (a ticket comment on GitHub) arrives without the session cookie:
 * SameSite=Strict keeps it back on cross-site navigations. Such a request gets a page that
 * loads the same address again from our own site, which the browser does send the cookie with,
 * instead of the sign-in page (or, on the sign-in page, a new session replacing the one it has).
 */
export const reloadCrossSite: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
  if (req.method === 'GET' && isCrossSiteNavigation(req)) return reload(req, res);
  next();
};

function isCrossSiteNavigation(req: Request): boolean {
  return req.get('sec-fetch-site') === 'cross-site' && req.get('sec-fetch-mode') === 'navigate';
}

function reload(req: Request, res: Response): void {
  sendPage(res, 200, 'reload', { title: 'Opening the page', target: localPath(req.originalUrl) });
}
