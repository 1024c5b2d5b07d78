import { Router, type Request, type Response } from 'express';
import { normaliseCustomerCode } from '../core/customer-code.ts';
import { setCertificateEnabled } from '../services/certificates.ts';
import { listConnectors } from '../services/connectors.ts';
import type { ServiceContext } from '../services/context.ts';
import { deleteEnvironment } from '../services/delete-line.ts';
import { addEnvironment, listEnvironments } from '../services/environments.ts';
import type { Failure } from '../services/outcome.ts';
import { currentCertificate } from '../services/requests.ts';
import { EXPIRING_DAYS } from './days-left.ts';
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
  /** REMINDER_DAYS: from when a row says "renew soon" (default 30). */
  reminderDays?: number | undefined;
}

/** What went wrong with a form of the tab, shown next to that form. */
interface TabProblems {
  add?: { value: string; errors: Failure[] };
  /** The Enabled switch of one certificate (`serial`) of a line. */
  line?: { customerCode: string; serial: string; errors: Failure[]; reason: string };
  delete?: { customerCode: string; errors: Failure[] };
}

type Where = { technicalName: string; version: string };
type LineWhere = Where & { customerCode: string };

const TAB = '/connectors/:name/versions/:version';
const LINE = `${TAB}/environments/:code`;

/** The certificates tab of a version and its forms; every rule is the services'. */
export function tabRoutes({ ctx, auth, tickets, reminderDays }: TabDependencies): Router {
  const settings = { reminderDays: reminderDays ?? EXPIRING_DAYS, minRsaBits: ctx.minRsaBits };
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
  const backTo = (res: Response, at: Where, done: string, customerCode: string, serial?: string) =>
    res.redirect(
      303,
      `${paths.version(at.technicalName, at.version)}?done=${done}&line=${encodeURIComponent(customerCode)}` +
        `${serial ? `&serial=${encodeURIComponent(serial)}` : ''}#notice`,
    );

  async function renderTab(req: Request, res: Response, at: Where, problems: TabProblems = {}, status = 200) {
    const actor = supplierActor(req);
    const connector = (await listConnectors(ctx, actor)).find((c) => c.technicalName === at.technicalName);
    const version = connector?.versions.find((v) => v.version === at.version);
    const listed = await listEnvironments(ctx, actor, at);
    if (!connector || !version || !listed.ok) return sendNotFound(auth, req, res);
    const lines = tabLines(at, listed.value, ctx.now(), tickets, settings);
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
            noticeFor(req.query['done'], req.query['line'], lines, req.query['serial']))
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

  // The switch of one certificate of the line: the current one or an earlier one still valid.
  router.post(`${LINE}/enabled`, ...form, async (req, res) => {
    const at = lineWhere(req);
    const enabled = formField(req, 'enabled') === 'true';
    const reason = formField(req, 'reason') ?? '';
    const serial = formField(req, 'serial') ?? '';
    const problem = (errors: Failure[], status: number, on = serial) =>
      renderTab(
        req,
        res,
        at,
        { line: { customerCode: at.customerCode, serial: on, errors, reason } },
        status,
      );
    if (formField(req, 'confirm') !== 'yes') {
      return problem([{ code: 'confirmation_required', message: 'Tick the box to confirm.' }], 422);
    }
    const listed = await listEnvironments(ctx, supplierActor(req), at);
    const line = listed.ok ? listed.value.find((l) => l.customerCode === at.customerCode) : undefined;
    if (!line) return sendNotFound(auth, req, res);
    if (!line.certificates?.some((c) => c.serial === serial)) {
      const message =
        'This certificate is no longer listed on this line (it expired, or the page is old); check the line and try again.';
      // Said at the current certificate's switch: the posted serial has none on this page.
      return problem([{ code: 'certificate_changed', message }], 409, line.certificate?.serial);
    }
    const changed = await setCertificateEnabled(ctx, supplierActor(req), serial, { enabled, reason });
    if (!changed.ok) return problem(changed.failures, 422);
    backTo(res, at, enabled ? 'enabled' : 'disabled', at.customerCode, serial);
  });

  // A line added by mistake, that never had a certificate.
  router.post(`${LINE}/delete`, ...form, async (req, res) => {
    const at = lineWhere(req);
    const problem = (errors: Failure[], status: number) =>
      renderTab(req, res, at, { delete: { customerCode: at.customerCode, errors } }, status);
    if (formField(req, 'confirm') !== 'yes') {
      return problem([{ code: 'confirmation_required', message: 'Tick the box to confirm.' }], 422);
    }
    const deleted = await deleteEnvironment(ctx, supplierActor(req), at);
    if (deleted.ok) return backTo(res, at, 'deleted', deleted.value.customerCode);
    if (deleted.failures.some((f) => f.code === 'not_found')) return sendNotFound(auth, req, res);
    await problem(deleted.failures, 409);
  });

  return router;
}
