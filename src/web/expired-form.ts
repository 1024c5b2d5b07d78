import { normaliseCustomerCode } from '../core/customer-code.ts';
import type { LineView, Notice } from './tab-view.ts';

/**
 * A form of the certificates tab sent after the session ended (it lasts 8 hours, or was signed
 * out): the form is not acted on. The sign-in page says so and what to send again, and signing
 * in leads back to the tab, which says it once more on the row's line. Everything here comes
 * from the form's address, never from its body: without a session the body is not read (its
 * CSRF token could not be checked), and a multipart upload is not even parsed.
 */

/** The tab's forms, by the last part of their address. */
export type ExpiredForm = 'upload' | 'add' | 'enabled';

const FORMS: Record<ExpiredForm, { again: string; line: (code: string) => string }> = {
  upload: {
    again: 'then upload the CSR again: it was not uploaded',
    line: (code) =>
      `Your session had expired: the CSR for ${code} was not uploaded. Choose the file and upload it again.`,
  },
  add: {
    again: 'then add the environment again: it was not added',
    line: () => 'Your session had expired: the environment was not added. Add it again.',
  },
  enabled: {
    again: 'then disable or enable the certificate again: it was not changed',
    line: (code) =>
      `Your session had expired: the certificate of ${code} was not changed. Disable or enable it again.`,
  },
};

// The addresses of src/web/tab-routes.ts as the request sends them (still percent-encoded).
const TAB_FORM = /^(\/connectors\/[^/]+\/versions\/[^/]+)\/environments(?:\/([^/]+)\/(csr|enabled))?$/;

/**
 * Where the sign-in page leads back to after a tab form was posted without a session: the tab,
 * told which form and line to ask for again (`?again=upload&line=TE1002#notice`); undefined for
 * any other address.
 */
export function expiredFormReturn(path: string): { form: ExpiredForm; next: string } | undefined {
  const match = TAB_FORM.exec(path);
  if (!match) return undefined;
  const [, tab, line, action] = match as unknown as [string, string, string | undefined, string | undefined];
  const form: ExpiredForm = action === 'csr' ? 'upload' : action === 'enabled' ? 'enabled' : 'add';
  const query = line ? `?again=${form}&line=${line}` : `?again=${form}`;
  return { form, next: `${tab}${query}#notice` };
}

function isForm(value: unknown): value is ExpiredForm {
  return typeof value === 'string' && Object.hasOwn(FORMS, value);
}

/** The sign-in page's message for `?expired=<form>` (a fixed text; anything else: none). */
export function expiredSignInMessage(form: unknown): string | undefined {
  if (form === 'form')
    return 'Your session expired (or was signed out); sign in again — then send the form again: it was not sent.';
  if (!isForm(form)) return undefined;
  return `Your session expired (or was signed out); sign in again — ${FORMS[form].again}.`;
}

/**
 * The tab's notice after signing in again (`?again=<form>&line=<code>`), for a line the tab
 * shows (the add form needs none); nothing from the query is shown but a listed line's code.
 */
export function againNotice(form: unknown, code: unknown, lines: LineView[]): Notice | undefined {
  if (!isForm(form)) return undefined;
  if (form === 'add') return { tone: 'problem', text: FORMS.add.line('') };
  const wanted = typeof code === 'string' ? normaliseCustomerCode(code) : undefined;
  const line = lines.find((l) => l.customerCode === wanted);
  return line ? { tone: 'problem', text: FORMS[form].line(line.customerCode) } : undefined;
}
