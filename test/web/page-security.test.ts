import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCsr } from '../helpers/services.ts';
import { startWebService, WEB_ADMIN_TOKEN, type WebService } from '../helpers/web.ts';
import { cookieValue, PageClient, type PageReply } from '../helpers/web-client.ts';

const SCRIPT_NAME = '<script>alert("owned")</script> Connector';
const ALPHA = '/connectors/alpha_conn/versions/1.0';
const BETA = '/connectors/beta_conn/versions/1.0';
type Line = {
  customerCode: string;
  request?: { id: string };
  certificate?: { serial: string; enabled: boolean };
};

const isRefusedForm = (reply: PageReply) => {
  expect(reply.status).toBe(403);
  expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
  expect(reply.html).toContain('This form cannot be accepted');
};

describe('the web pages: sessions, CSRF, tenant isolation, escaping (PUBLIC_URL http)', () => {
  let web: WebService;
  let alpha = '';
  let beta = '';
  let alphaSerial = '';
  let betaSerial = '';
  const lines = async (token: string, path: string) =>
    (await web.api<Line[]>(token, 'GET', `/api${path}/environments`)).json;

  beforeAll(async () => {
    web = await startWebService();
    alpha = await web.addSupplier('Alpha <i>Software</i>');
    beta = await web.addSupplier('Beta Software');
    for (const [token, name, display] of [
      [alpha, 'alpha_conn', SCRIPT_NAME],
      [beta, 'beta_conn', 'Beta connector'],
    ] as const) {
      await web.api(token, 'POST', '/api/connectors', { technicalName: name, name: display });
      await web.api(token, 'POST', `/api/connectors/${name}/versions`, { version: '1.0' });
      const path = `/api/connectors/${name}/versions/1.0/environments`;
      await web.api(token, 'POST', path, { customerCode: 'TE1002' });
      const { csr } = await makeCsr(`${name}-TE1002-security`);
      const uploaded = await web.api<{ certificate: { serial: string } }>(
        token,
        'PUT',
        `${path}/TE1002/csr`,
        csr,
      );
      if (token === alpha) alphaSerial = uploaded.json.certificate.serial;
      else betaSerial = uploaded.json.certificate.serial;
    }
  });

  afterAll(async () => {
    await web?.close();
  });

  it('the session cookie is HttpOnly, SameSite=Strict, Path=/, for 8 hours, not Secure over http', async () => {
    const reply = await fetch(`${web.url}/login`);
    const cookies = reply.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const [pair, ...flags] = cookies[0]!.split('; ');
    expect(pair).toMatch(/^ons_certs_session=v1\.-\.\d+\.\d+\.[\w-]{22}\.[\w-]{43}$/);
    expect(flags.sort()).toEqual(['HttpOnly', 'Max-Age=28800', 'Path=/', 'SameSite=Strict']);
  });

  it('signing in starts a new session: a new cookie and CSRF token, the supplier in the header', async () => {
    const client = new PageClient(web.url);
    await client.get('/login');
    const [before, csrfBefore] = [client.cookie, client.csrf];
    const signedIn = await client.post('/login', { token: alpha, next: ALPHA });
    expect([signedIn.status, signedIn.location]).toEqual([303, ALPHA]);
    expect(client.cookie).not.toBe(before);
    const tab = await client.get(ALPHA);
    expect(tab.status).toBe(200);
    expect(client.csrf).not.toBe(csrfBefore);
    expect(tab.html).toContain('Signed in as <strong>Alpha &lt;i&gt;Software&lt;/i&gt;</strong>');
    // The token of the signed-out session is worth nothing in the new one.
    isRefusedForm(await client.post(`${ALPHA}/environments`, { _csrf: csrfBefore!, customerCode: 'TE1002' }));
  });

  it('the sign-in form does not echo a wrong token, and sends back only within the site', async () => {
    const client = new PageClient(web.url);
    await client.get('/login');
    const wrong = await client.post('/login', { token: 'ons_wrong-token-never-shown' });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('This is not a supplier token we know');
    expect(wrong.html).not.toContain('wrong-token-never-shown');
    for (const next of [
      '//evil.example/x',
      'https://evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
    ]) {
      const fresh = new PageClient(web.url);
      await fresh.get('/login');
      expect((await fresh.post('/login', { token: alpha, next })).location).toBe('/connectors');
    }
  });

  describe('a form without the right CSRF token is refused with a 403 page and changes nothing', () => {
    let client: PageClient;
    beforeAll(async () => {
      client = new PageClient(web.url);
      await client.signIn(alpha);
      await client.get(ALPHA);
    });

    it.each([
      ['add environment', `${ALPHA}/environments`, { customerCode: 'TE1003' }],
      [
        'enable/disable',
        `${ALPHA}/environments/TE1002/enabled`,
        { enabled: 'false', reason: 'x', confirm: 'yes' },
      ],
      ['sign out', '/logout', {}],
    ])('%s: without a token, and with a wrong one', async (_name, path, fields) => {
      const serial: Record<string, string> = path.endsWith('enabled') ? { serial: alphaSerial } : {};
      isRefusedForm(await client.post(path, { ...fields, ...serial }, { csrf: false }));
      isRefusedForm(await client.post(path, { ...fields, ...serial, _csrf: 'A'.repeat(43) }));
      expect((await client.get(ALPHA)).status).toBe(200);
      expect(await lines(alpha, ALPHA)).toEqual([
        expect.objectContaining({
          customerCode: 'TE1002',
          certificate: expect.objectContaining({ enabled: true }),
        }),
      ]);
    });

    it('the CSR upload (a file form)', async () => {
      const before = (await lines(alpha, ALPHA))[0]?.request?.id;
      const { csr } = await makeCsr('alpha_conn-TE1002-csrf');
      isRefusedForm(await client.upload(`${ALPHA}/environments/TE1002/csr`, csr, { csrf: false }));
      expect((await lines(alpha, ALPHA))[0]?.request?.id).toBe(before);
      const accepted = await client.upload(`${ALPHA}/environments/TE1002/csr`, csr);
      expect([accepted.status, accepted.location]).toEqual([
        303,
        `${ALPHA}?done=uploaded&line=TE1002#notice`,
      ]);
      expect((await lines(alpha, ALPHA))[0]?.request?.id).not.toBe(before);
    });

    it('sign-in without a session or token', async () => {
      const stranger = new PageClient(web.url);
      isRefusedForm(await stranger.post('/login', { token: alpha }, { csrf: false }));
      expect(stranger.cookie).toBeUndefined();
    });
  });

  describe("another supplier's connector, version, line or certificate is the 404 of what does not exist", () => {
    let client: PageClient;
    let missing: PageReply;
    beforeAll(async () => {
      client = new PageClient(web.url);
      await client.signIn(alpha);
      missing = await client.get('/connectors/no_such_conn/versions/1.0');
    });

    it.each([
      '/connectors/beta_conn',
      BETA,
      `${BETA}/environments/TE1002/certificate.pem`,
      '/connectors/alpha_conn/versions/9.9',
      `${ALPHA}/environments/CF9999/certificate.pem`,
      '/connectors/alpha_conn/anything/else',
    ])('GET %s', async (path) => {
      const reply = await client.get(path);
      expect(reply.status).toBe(404);
      expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
      expect(reply.html).toBe(missing.html);
      expect(reply.html).not.toContain('Beta');
    });

    it('forms on it: 404 as well, and its data stays as it was', async () => {
      await client.get(ALPHA);
      const before = await lines(beta, BETA);
      for (const [path, fields] of [
        [`${BETA}/environments`, { customerCode: 'TE1003' }],
        [
          `${BETA}/environments/TE1002/enabled`,
          { enabled: 'false', reason: 'x', confirm: 'yes', serial: betaSerial },
        ],
      ] as const) {
        expect((await client.post(path, fields)).status).toBe(404);
      }
      const { csr } = await makeCsr('beta_conn-TE1002-intruder');
      expect((await client.upload(`${BETA}/environments/TE1002/csr`, csr)).status).toBe(404);
      expect(await lines(beta, BETA)).toEqual(before);
      expect(before).toEqual([
        expect.objectContaining({ certificate: expect.objectContaining({ enabled: true }) }),
      ]);
    });

    it("the own certificate's serial on another's line is not taken either", async () => {
      const reply = await client.post(`${ALPHA}/environments/TE1002/enabled`, {
        enabled: 'false',
        reason: 'x',
        confirm: 'yes',
        serial: betaSerial,
      });
      expect(reply.status).toBe(409);
      expect(reply.html).toContain('This certificate is no longer listed on this line');
      expect((await lines(beta, BETA))[0]?.certificate?.enabled).toBe(true);
    });
  });

  it('a connector name with <script> is shown as text on every page', async () => {
    const client = new PageClient(web.url);
    await client.signIn(alpha);
    for (const path of ['/connectors', '/connectors/alpha_conn', ALPHA]) {
      const { status, html } = await client.get(path);
      expect(status).toBe(200);
      expect(html).not.toContain('<script');
      expect(html).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; Connector');
    }
  });

  it('pages forbid scripts, framing and caching; the PEM download is an attachment', async () => {
    const client = new PageClient(web.url);
    await client.signIn(alpha);
    const page = await client.get(ALPHA);
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const pem = await client.get(`${ALPHA}/environments/te1002/certificate.pem`);
    expect(pem.status).toBe(200);
    expect(pem.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
    expect(pem.headers.get('content-disposition')).toMatch(
      /^attachment; filename="?alpha_conn-TE1002-\w+\.pem"?$/,
    );
    expect(pem.html).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('a forged or altered cookie counts as signed out', async () => {
    const client = new PageClient(web.url);
    await client.signIn(alpha);
    const parts = cookieValue(client).split('.');
    for (const value of [
      [parts[0], '00000000-0000-4000-8000-000000000000', ...parts.slice(2)].join('.'),
      [...parts.slice(0, 3), String(Number(parts[3]) + 3600), ...parts.slice(4)].join('.'),
      `${parts.slice(0, 5).join('.')}.${'A'.repeat(43)}`,
      'garbage',
    ]) {
      const forged = new PageClient(web.url);
      forged.cookie = `ons_certs_session=${value}`;
      const reply = await forged.get(ALPHA);
      expect([reply.status, reply.location]).toEqual([303, `/login?next=${encodeURIComponent(ALPHA)}`]);
    }
  });

  it('a session ends when its supplier no longer exists', async () => {
    const created = await web.api<{ id: string; token: string }>(
      WEB_ADMIN_TOKEN,
      'POST',
      '/api/admin/suppliers',
      {
        name: 'Gone Software',
        email: 'gone@example.com',
      },
    );
    const client = new PageClient(web.url);
    await client.signIn(created.json.token);
    expect((await client.get('/connectors')).status).toBe(200);
    const sql = postgres(web.databaseUrl, { max: 1, onnotice: () => undefined });
    try {
      await sql`delete from suppliers where id = ${created.json.id}`;
    } finally {
      await sql.end();
    }
    expect((await client.get('/connectors')).location).toBe('/login?next=%2Fconnectors');
  });

  it('an upload over 64 KiB gets the 413 page', async () => {
    const client = new PageClient(web.url);
    await client.signIn(alpha);
    await client.get(ALPHA);
    const reply = await client.upload(`${ALPHA}/environments/TE1002/csr`, Buffer.alloc(65 * 1024, 'A'));
    expect(reply.status).toBe(413);
    expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
    expect(reply.html).toContain('The file is too large');
  });

  it('the JSON API is unchanged: the cookie is no API credential, unknown paths answer JSON', async () => {
    const client = new PageClient(web.url);
    await client.signIn(alpha);
    const api = await fetch(`${web.url}/api/connectors`, { headers: { cookie: client.cookie! } });
    expect(api.status).toBe(401);
    const unknown = await fetch(`${web.url}/no/such/path`);
    expect([unknown.status, await unknown.json()]).toEqual([
      404,
      { errors: [{ code: 'not_found', message: 'no such resource' }] },
    ]);
  });
});

describe('the session cookie when PUBLIC_URL is https', () => {
  let web: WebService;
  beforeAll(async () => {
    web = await startWebService({ PUBLIC_URL: 'https://certs.example.com' });
  });
  afterAll(async () => {
    await web?.close();
  });

  it('is Secure and named __Host-, so only HTTPS carries it and no subdomain can set it', async () => {
    const cookie = (await fetch(`${web.url}/login`)).headers.getSetCookie()[0]!;
    const [pair, ...flags] = cookie.split('; ');
    expect(pair).toMatch(/^__Host-ons_certs_session=v1\./);
    expect(flags.sort()).toEqual(['HttpOnly', 'Max-Age=28800', 'Path=/', 'SameSite=Strict', 'Secure']);
  });
});
