import { Router, type Request, type Response } from 'express';
import type { AuthThrottle } from '../api/auth-throttle.ts';
import type { Logger } from '../log.ts';
import { listConnectors } from '../services/connectors.ts';
import type { ServiceContext } from '../services/context.ts';
import { supplierForToken } from '../services/suppliers.ts';
import { formatUtc } from '../templates/text.ts';
import { expiredSignInMessage } from './expired-form.ts';
import { formField, plainForm } from './forms.ts';
import { localPath } from './local-path.ts';
import { PageAuth, reloadCrossSite, supplierActor } from './page-auth.ts';
import { pageErrors, sendNotFound } from './page-errors.ts';
import { paths } from './paths.ts';
import { asset, sendPage } from './render.ts';
import { deriveSessionKeys } from './session.ts';
import { tabRoutes } from './tab-routes.ts';
import { githubWebUrl } from './ticket-link.ts';

export interface PageDependencies {
  services: ServiceContext;
  log: Logger;
  /** PUBLIC_URL: over https the session cookie is Secure (and named `__Host-…`). */
  publicUrl: string;
  /** SUPPORT_REPO (`owner/name`): staging and production rows link to a prefilled new ticket there. */
  supportRepo: string | undefined;
  /** GHE_HOST and GHE_PROTOCOL: where GitHub's web pages are. */
  github: { gheHost: string | undefined; gheProtocol: 'http' | 'https' };
  /** REMINDER_DAYS: from when the tab says "renew soon" (default 30). */
  reminderDays?: number | undefined;
  /** Counts and slows failed sign-ins per client address (shared with the API's tokens). */
  authThrottle?: AuthThrottle | undefined;
}

/**
 * The supplier's web pages: sign-in and sign-out, the connectors and their versions, and each
 * version's certificates tab. Server-rendered, without scripts, on top of the same services as
 * the JSON API; nothing here is under /api.
 */
export function pageRoutes(deps: PageDependencies): Router {
  const ctx = deps.services;
  const auth = new PageAuth(ctx, deriveSessionKeys(ctx.ca.privateKey), deps.publicUrl.startsWith('https:'));
  const router = Router();
  const signedIn = [auth.load, auth.require];
  const style = asset('style.css', 'text/css; charset=utf-8');
  const icon = asset('icon.svg', 'image/svg+xml');

  router.get(paths.style, (_req, res) => style(res));
  router.get(paths.icon, (_req, res) => icon(res));

  router.get(paths.home, auth.load, (req, res) => {
    res.redirect(303, req.supplier ? paths.connectors : paths.login);
  });

  const loginPage = (req: Request, res: Response, status: number, extra: Record<string, unknown> = {}) => {
    const session = req.webSession ?? auth.start(res, undefined);
    // After a form sent with an expired session: kept through a wrong token, as `next` is.
    const expired = req.query['expired'] ?? formField(req, 'expired');
    const expiredMessage = expiredSignInMessage(expired);
    sendPage(res, status, 'login', {
      title: 'Sign in',
      csrf: auth.csrf(session),
      next: localPath(req.query['next'] ?? formField(req, 'next')),
      signedOut: req.query['signed_out'] === '1',
      expired: expiredMessage ? expired : undefined,
      expiredMessage,
      ...extra,
    });
  };

  router.get(paths.login, reloadCrossSite, auth.load, (req, res) => {
    if (req.supplier) return res.redirect(303, localPath(req.query['next']));
    loginPage(req, res, 200);
  });

  router.post(paths.login, auth.load, plainForm, auth.checkCsrf, async (req, res) => {
    // The token is never shown again, logged, or kept anywhere but in the supplier's hands.
    const token = (formField(req, 'token') ?? '').trim();
    const throttle = deps.authThrottle;
    // An address that failed too often waits, before its token is looked at (a right one too).
    const wait = token && throttle ? await throttle.waitFor(req.ip, 'sign_in') : undefined;
    if (wait !== undefined) {
      res.set('Retry-After', String(wait));
      return sendPage(res, 429, 'error', {
        title: 'Too many attempts',
        ...auth.layout(req),
        message:
          'Too many sign-ins with a wrong token came from your address, so sign-ins from it wait a while.',
        next: `Try again in ${wait} seconds, after ${formatUtc(new Date(ctx.now().getTime() + wait * 1000))}.`,
      });
    }
    const supplier = token ? await supplierForToken(ctx, token) : undefined;
    if (token && !supplier) await throttle?.failed(req.ip, 'sign_in');
    if (!supplier) {
      return loginPage(req, res, 401, {
        error: token
          ? 'This is not a supplier token we know. Copy the whole token you were given (it starts with ons_) and try again.'
          : 'Enter your supplier token.',
      });
    }
    // A new session, never the visitor's old one: nobody can plant a session and wait.
    auth.start(res, supplier.id);
    res.redirect(303, localPath(formField(req, 'next')));
  });

  router.get(paths.logout, auth.load, (req, res) => {
    if (!req.supplier) return res.redirect(303, paths.login);
    sendPage(res, 200, 'logout', { title: 'Sign out', ...auth.layout(req) });
  });

  router.post(
    paths.logout,
    auth.load,
    plainForm,
    (req, res, next) => (req.webSession ? next() : res.redirect(303, paths.login)),
    auth.checkCsrf,
    async (req, res) => {
      await auth.end(res, req.webSession);
      res.redirect(303, `${paths.login}?signed_out=1`);
    },
  );

  router.get(paths.connectors, ...signedIn, async (req, res) => {
    sendPage(res, 200, 'connectors', {
      title: 'Your connectors',
      ...auth.layout(req),
      connectors: await listConnectors(ctx, supplierActor(req)),
    });
  });

  router.get('/connectors/:name', ...signedIn, async (req, res) => {
    const name = req.params['name'] as string;
    const connector = (await listConnectors(ctx, supplierActor(req))).find((c) => c.technicalName === name);
    if (!connector) return sendNotFound(auth, req, res);
    sendPage(res, 200, 'connector', {
      title: connector.name,
      ...auth.layout(req),
      breadcrumbs: [{ label: 'Connectors', href: paths.connectors }, { label: connector.name }],
      connector,
    });
  });

  router.use(
    tabRoutes({
      ctx,
      auth,
      tickets: { githubWebUrl: githubWebUrl(deps.github), supportRepo: deps.supportRepo },
      reminderDays: deps.reminderDays,
    }),
  );
  // Any other address under /connectors is a page that does not exist (not a JSON 404).
  router.use(paths.connectors, auth.load, (req, res) => sendNotFound(auth, req, res));
  router.use(pageErrors(auth, deps.log));
  return router;
}
