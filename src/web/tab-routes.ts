import { Router, type Request, type Response } from 'express';
import { normaliseCustomerCode } from '../core/customer-code.ts';
import { setCertificateEnabled } from '../services/certificates.ts';
import { listConnectors } from '../services/connectors.ts';
import type { ServiceContext } from '../services/context.ts';
import { addEnvironment, listEnvironments } from '../services/environments.ts';
import type { Failure } from '../services/outcome.ts';
import { currentCertificate } from '../services/requests.ts';
import { uploadCsr } from '../services/upload-csr.ts';
import { againNotice } from './expired-form.ts';
import { fileForm, formField, plainForm } from './forms.ts';
import { supplierActor, type PageAuth } from './page-auth.ts';
import { sendNotFound } from './page-errors.ts';
import { paths } from './paths.ts';
import { sendPage } from './render.ts';
import { noticeFor, tabLines, type TicketSettings } from './tab-view.ts';

export interface TabDependencies {
  ctx: ServiceContext;
  auth: PageAuth;
  tickets: TicketSettings;
}

/** What went wrong with a form of the tab, shown next to that form. */
interface TabProblems {
  add?: { value: string; errors: Failure[] };
  line?: { customerCode: string; errors: Failure[]; reason: string };
}

type Where = { technicalName: string; version: string };
type LineWhere = Where & { customerCode: string };

const TAB = '/connectors/:name/versions/:version';
const LINE = `${TAB}/environments/:code`;

/** The certificates tab of a version and its forms; every rule is the services'. */
export function tabRoutes({ ctx, auth, tickets }: TabDependencies): Router {
  const router = Router();
  const signedIn = [auth.load, auth.require];
  const form = [...signedIn, plainForm, auth.checkCsrf];

  const where = (req: Request): Where => ({
    technicalName: req.params['name'] as string,
    version: req.params['version'] as string,
  });
  const lineWhere = (req: Request): LineWhere => ({
    ...where(req),
    customerCode: normaliseCustomerCode(req.params['code'] as string),
  });
  const backTo = (res: Response, at: Where, done: string, customerCode: string) =>
    res.redirect(
      303,
      `${paths.version(at.technicalName, at.version)}?done=${done}&line=${encodeURIComponent(customerCode)}#notice`,
    );

  async function renderTab(req: Request, res: Response, at: Where, problems: TabProblems = {}, status = 200) {
    const actor = supplierActor(req);
    const connector = (await listConnectors(ctx, actor)).find((c) => c.technicalName === at.technicalName);
    const version = connector?.versions.find((v) => v.version === at.version);
    const listed = await listEnvironments(ctx, actor, at);
    if (!connector || !version || !listed.ok) return sendNotFound(auth, req, res);
    const lines = tabLines(at, listed.value, ctx.now(), tickets);
    sendPage(res, status, 'tab', {
      title: `Certificates of ${connector.name} ${version.version}`,
      ...auth.layout(req),
      breadcrumbs: [
        { label: 'Connectors', href: paths.connectors },
        { label: connector.name, href: paths.connector(connector.technicalName) },
        { label: `Version ${version.version}` },
      ],
      connector,
      version,
      lines,
      notice:
        status === 200
          ? (againNotice(req.query['again'], req.query['line'], lines) ??
            noticeFor(req.query['done'], req.query['line'], lines))
          : undefined,
      problems,
      actions: { add: paths.environments(at.technicalName, at.version) },
      supportRepo: tickets.supportRepo,
    });
  }

  router.get(TAB, ...signedIn, (req, res) => renderTab(req, res, where(req)));

  router.post(`${TAB}/environments`, ...form, async (req, res) => {
    const at = where(req);
    const value = formField(req, 'customerCode') ?? '';
    const added = await addEnvironment(ctx, supplierActor(req), at, { customerCode: value });
    if (added.ok) return backTo(res, at, 'added', added.value.customerCode);
    if (added.failures.some((f) => f.code === 'not_found')) return sendNotFound(auth, req, res);
    await renderTab(req, res, at, { add: { value, errors: added.failures } }, 422);
  });

  router.post(`${LINE}/csr`, ...signedIn, ...fileForm, auth.checkCsrf, async (req, res) => {
    const at = lineWhere(req);
    const csr = req.formFiles?.get('csr') ?? Buffer.from(formField(req, 'csr') ?? '');
    const uploaded = await uploadCsr(ctx, supplierActor(req), at, csr);
    if (!uploaded.ok && uploaded.failures.some((f) => f.code === 'not_found')) {
      return sendNotFound(auth, req, res);
    }
    // A refused CSR is kept on its line with every violation: the row shows them.
    backTo(res, at, 'uploaded', at.customerCode);
  });

  router.get(`${LINE}/certificate.pem`, ...signedIn, async (req, res) => {
    const found = await currentCertificate(ctx, supplierActor(req), lineWhere(req));
    if (!found.ok) return sendNotFound(auth, req, res);
    res
      .attachment(`${found.value.commonName}.pem`)
      .type('application/x-pem-file')
      .set('Cache-Control', 'no-store')
      .set('X-Content-Type-Options', 'nosniff')
      .send(found.value.pem);
  });

  router.post(`${LINE}/enabled`, ...form, async (req, res) => {
    const at = lineWhere(req);
    const enabled = formField(req, 'enabled') === 'true';
    const reason = formField(req, 'reason') ?? '';
    const problem = (errors: Failure[], status: number) =>
      renderTab(req, res, at, { line: { customerCode: at.customerCode, errors, reason } }, status);
    if (formField(req, 'confirm') !== 'yes') {
      return problem([{ code: 'confirmation_required', message: 'Tick the box to confirm.' }], 422);
    }
    const current = await currentCertificate(ctx, supplierActor(req), at);
    if (!current.ok) return sendNotFound(auth, req, res);
    if (current.value.serial !== formField(req, 'serial')) {
      const message =
        'The certificate on this line changed since the page was shown; check it and try again.';
      return problem([{ code: 'certificate_changed', message }], 409);
    }
    const changed = await setCertificateEnabled(ctx, supplierActor(req), current.value.serial, {
      enabled,
      reason,
    });
    if (!changed.ok) return problem(changed.failures, 422);
    backTo(res, at, enabled ? 'enabled' : 'disabled', at.customerCode);
  });

  return router;
}
