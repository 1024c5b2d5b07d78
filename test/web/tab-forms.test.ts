import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCsr } from '../helpers/services.ts';
import { startWebService, WEB_ADMIN_TOKEN, type WebService } from '../helpers/web.ts';
import { PageClient } from '../helpers/web-client.ts';

const TAB = '/connectors/forms_conn/versions/1.0';
type Line = {
  customerCode: string;
  request?: { state: string };
  certificate?: { serial: string; enabled: boolean };
};

describe('the forms of the certificates tab answer in words, next to the form (over HTTP)', () => {
  let web: WebService;
  let token = '';
  let client: PageClient;
  let serial = '';
  const lines = async () =>
    (await web.api<Line[]>(token, 'GET', `/api/connectors/forms_conn/versions/1.0/environments`)).json;

  beforeAll(async () => {
    web = await startWebService();
    token = await web.addSupplier('Forms Software');
    await web.api(token, 'POST', '/api/connectors', { technicalName: 'forms_conn', name: 'Forms' });
    await web.api(token, 'POST', '/api/connectors/forms_conn/versions', { version: '1.0' });
    client = new PageClient(web.url);
    await client.signIn(token);
    await client.get(TAB);
  });

  afterAll(async () => {
    await web?.close();
  });

  it('adds a line (Post/Redirect/Get) and says so once, on the page it redirects to', async () => {
    const added = await client.post(`${TAB}/environments`, { customerCode: ' te1002 ' });
    expect([added.status, added.location]).toEqual([303, `${TAB}?done=added&line=TE1002#notice`]);
    const page = await client.get(`${TAB}?done=added&line=TE1002`);
    expect(page.html).toContain('TE1002 was added. Upload a CSR on its row.');
    expect((await client.get(`${TAB}?done=added&line=%3Cb%3E`)).html).not.toContain('id="notice"');
  });

  it.each([
    ['XX12', 'invalid_customer_code', 'is not a customer code: use TE1002'],
    ['TE1002', 'environment_exists', 'TE1002 is already an environment of version 1.0'],
    ['CF1234', 'version_not_approved', 'version 1.0 is still editable'],
  ])('refuses %s (%s), keeping what was typed', async (code, _failure, words) => {
    const reply = await client.post(`${TAB}/environments`, { customerCode: code });
    expect(reply.status).toBe(422);
    expect(reply.html).toContain(words);
    expect(reply.html).toMatch(new RegExp(`id="customerCode" name="customerCode" value="${code}"`));
    expect(reply.html).toContain('aria-invalid="true"');
    expect((await lines()).map((l) => l.customerCode)).toEqual(['TE1002']);
  });

  it('an upload without a file is a refused request the row explains (malformed_csr)', async () => {
    const reply = await client.upload(`${TAB}/environments/TE1002/csr`, '');
    expect(reply.status).toBe(303);
    const page = await client.get(`${TAB}?done=uploaded&line=TE1002`);
    expect(page.html).toContain('The CSR for TE1002 was refused');
    expect(page.html).toContain('(malformed_csr)');
    expect((await lines())[0]?.request?.state).toBe('invalid');
  });

  it('disabling needs the confirmation and a reason; each is asked for next to the switch', async () => {
    const { csr } = await makeCsr('forms_conn-TE1002-switch');
    expect((await client.upload(`${TAB}/environments/TE1002/csr`, csr)).status).toBe(303);
    serial = (await lines())[0]!.certificate!.serial;
    await client.get(TAB);
    const path = `${TAB}/environments/TE1002/enabled`;

    const unconfirmed = await client.post(path, { enabled: 'false', reason: 'leaked', serial });
    expect(unconfirmed.status).toBe(422);
    expect(unconfirmed.html).toContain('Tick the box to confirm.');
    expect(unconfirmed.html).toContain('<details open>');
    expect(unconfirmed.html).toMatch(
      new RegExp(`<textarea id="reason-TE1002-${serial}"[^>]*>leaked</textarea>`),
    );

    const reasonless = await client.post(path, { enabled: 'false', reason: '  ', confirm: 'yes', serial });
    expect(reasonless.status).toBe(422);
    expect(reasonless.html).toContain('say why the certificate is disabled');
    expect((await lines())[0]?.certificate?.enabled).toBe(true);

    const done = await client.post(path, { enabled: 'false', reason: 'leaked', confirm: 'yes', serial });
    expect([done.status, done.location]).toEqual([
      303,
      `${TAB}?done=disabled&line=TE1002&serial=${serial}#notice`,
    ]);
    expect((await lines())[0]?.certificate?.enabled).toBe(false);
    const page = await client.get(`${TAB}?done=disabled&line=TE1002`);
    expect(page.html).toContain('The certificate of TE1002 is disabled.');
    expect(page.html).toContain('Enable again…');
  });

  it('shows days left from the service clock, with the validity dates', async () => {
    const page = await client.get(TAB);
    expect(page.html).toMatch(/<p class="days">36[45] days left<\/p>/);
    expect(page.html).toMatch(/Valid from <time datetime="[^"]+">\d{4}-\d\d-\d\d<\/time> to <time/);
  });

  it('deleting a line needs the CSRF token and the confirmation; a line with a certificate is kept (409, said on its row)', async () => {
    const approve = '/api/admin/connectors/forms_conn/versions/1.0/approve';
    expect((await web.api(WEB_ADMIN_TOKEN, 'POST', approve)).status).toBe(200);
    expect((await client.post(`${TAB}/environments`, { customerCode: 'TE0404' })).status).toBe(303);
    await client.get(TAB);
    const path = `${TAB}/environments/TE0404/delete`;
    expect((await client.post(path, { confirm: 'yes' }, { csrf: false })).status).toBe(403);
    const unconfirmed = await client.post(path, {});
    expect(unconfirmed.status).toBe(422);
    expect(unconfirmed.html).toContain('Tick the box to confirm.');
    expect((await lines()).map((l) => l.customerCode)).toContain('TE0404');
    const done = await client.post(path, { confirm: 'yes' });
    expect([done.status, done.location]).toEqual([303, `${TAB}?done=deleted&line=TE0404#notice`]);
    expect((await lines()).map((l) => l.customerCode)).not.toContain('TE0404');

    await client.get(TAB);
    const kept = await client.post(`${TAB}/environments/TE1002/delete`, { confirm: 'yes' });
    expect(kept.status).toBe(409);
    expect(kept.html).toContain('TE1002 has had a certificate, so it is kept with its history');
    expect((await lines()).map((l) => l.customerCode)).toContain('TE1002');
  });
});
