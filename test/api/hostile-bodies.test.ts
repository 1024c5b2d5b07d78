import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readMultipart } from '../../src/api/multipart.ts';
import { captureLog, type CapturedLog } from '../helpers/log-capture.ts';
import { rawRequest, type RawReply } from '../helpers/raw-http.ts';
import { makeCsr } from '../helpers/services.ts';
import { startWebService, type WebService } from '../helpers/web.ts';
import { PageClient } from '../helpers/web-client.ts';

const LINES = '/api/connectors/hostile_conn/versions/1.0/environments';
const TAB = '/connectors/hostile_conn/versions/1.0';
/** Bytes no log line may ever hold: they stand for the body a client sent. */
const MARKER = `MARKER${randomBytes(8).toString('hex')}`;
const multipart = (boundary = 'B') => `multipart/form-data; boundary=${boundary}`;
const crlf = (...lines: string[]) => lines.join('\r\n');

/** Forms that are not complete, well-formed ones: each must be a 400, never a dead process. */
const BROKEN_FORMS: [string, string, string][] = [
  [
    'cut off inside a file part (the issue: no closing boundary)',
    multipart(),
    `--B\r\nContent-Disposition: form-data; name="csr"; filename="x.csr"\r\n\r\nAAAA${MARKER}`,
  ],
  [
    'cut off inside a field',
    multipart(),
    `--B\r\nContent-Disposition: form-data; name="csr"\r\n\r\n${MARKER}`,
  ],
  ['cut off inside a part header', multipart(), `--B\r\nContent-Disposition: form-data; name="${MARKER}`],
  ['without its boundary parameter', 'multipart/form-data', crlf('--B', 'x', '', MARKER, '--B--', '')],
  ['with an empty boundary', 'multipart/form-data; boundary=""', crlf('--', 'x', '', MARKER, '----', '')],
  ['whose boundary never occurs', multipart(), `${MARKER}${'A'.repeat(100)}`],
  [
    'with a 300-character boundary, cut off',
    multipart('b'.repeat(300)),
    `--${'b'.repeat(300)}\r\nContent-Disposition: form-data; name="csr"; filename="x"\r\n\r\n${MARKER}`,
  ],
  [
    'with a part header without a colon',
    multipart(),
    crlf('--B', `no colon ${MARKER}`, '', 'x', '--B--', ''),
  ],
  ['of another multipart type', 'multipart/form-dataX; boundary=B', crlf('--B', '', MARKER, '--B--', '')],
];

function fieldPart(name: string, value: string, type?: string): string {
  const head = [`Content-Disposition: form-data; name="${name}"`, ...(type ? [`Content-Type: ${type}`] : [])];
  return crlf('--B', ...head, '', value);
}
function filePart(name: string, content: string): string {
  return crlf('--B', `Content-Disposition: form-data; name="${name}"; filename="${name}.csr"`, '', content);
}
const form = (...parts: string[]) => `${parts.join('\r\n')}\r\n--B--\r\n`;

describe('hostile request bodies (real HTTP, PostgreSQL)', () => {
  let web: WebService;
  let log: CapturedLog;
  let token = '';
  let client: PageClient;
  const supplierToken = () => token;

  beforeAll(async () => {
    log = captureLog('debug');
    web = await startWebService({}, log.logger);
    token = await web.addSupplier('Hostile Software');
    await web.api(token, 'POST', '/api/connectors', { technicalName: 'hostile_conn', name: 'Hostile' });
    await web.api(token, 'POST', '/api/connectors/hostile_conn/versions', { version: '1.0' });
    expect((await web.api(token, 'POST', LINES, { customerCode: 'TE1002' })).status).toBe(201);
    client = new PageClient(web.url);
    await client.signIn(token);
    await client.get(TAB);
  }, 60_000);
  afterAll(async () => {
    await web?.close();
  });
  beforeEach(() => log.clear());

  const api = (method: string, path: string, headers: Record<string, string>, body?: Buffer | string) =>
    rawRequest(web.url, method, path, { authorization: `Bearer ${token}`, ...headers }, body);
  const page = (method: string, path: string, headers: Record<string, string>, body?: Buffer | string) =>
    rawRequest(
      web.url,
      method,
      path,
      { ...(client.cookie ? { cookie: client.cookie } : {}), ...headers },
      body,
    );

  /** The service is alive, logged one warn line with `code` for the refusal, and no byte of the body. */
  async function expectRefusalLogged(code: string) {
    expect((await rawRequest(web.url, 'GET', '/healthz')).status).toBe(200);
    const entries = log.entries();
    expect(log.text()).not.toContain(MARKER);
    expect(entries.filter((e) => Number(e['level']) >= 50)).toEqual([]);
    const refusals = entries.filter((e) => /unreadable request/.test(String(e['msg'])));
    expect(refusals.map((e) => [e['level'], e['code']])).toEqual([[40, code]]);
    expect(Object.keys(refusals[0] ?? {}).sort()).toEqual([
      'code',
      'level',
      'method',
      'msg',
      'path',
      'service',
      'time',
    ]);
  }
  const noStack = (reply: RawReply) => expect(reply.text).not.toMatch(/\bat .*\.(ts|js):\d+|Error:/);

  describe('multipart forms on PUT .../csr (API)', () => {
    it.each(BROKEN_FORMS)('answers 400 malformed_multipart to a form %s', async (_name, type, body) => {
      const reply = await api('PUT', `${LINES}/TE1002/csr`, { 'content-type': type }, body);
      expect([reply.status, reply.codes]).toEqual([400, ['malformed_multipart']]);
      expect(reply.text).toMatch(/multipart form could not be read/);
      noStack(reply);
      await expectRefusalLogged('malformed_multipart');
    });

    it('answers 413 too_many_fields to a form of 21 fields, and to one of 3 files', async () => {
      const fields = Array.from({ length: 21 }, (_, i) => fieldPart(`f${i}`, MARKER));
      const many = await api('PUT', `${LINES}/TE1002/csr`, { 'content-type': multipart() }, form(...fields));
      expect([many.status, many.codes]).toEqual([413, ['too_many_fields']]);
      await expectRefusalLogged('too_many_fields');
      log.clear();
      const files = ['a', 'b', 'csr'].map((name) => filePart(name, MARKER));
      const three = await api('PUT', `${LINES}/TE1002/csr`, { 'content-type': multipart() }, form(...files));
      expect([three.status, three.codes]).toEqual([413, ['too_many_fields']]);
      await expectRefusalLogged('too_many_fields');
    });

    it('answers 415 unsupported_charset to a field in a charset busboy cannot decode', async () => {
      const body = form(fieldPart('csr', MARKER, 'text/plain; charset=x-no-such-charset'));
      const reply = await api('PUT', `${LINES}/TE1002/csr`, { 'content-type': multipart() }, body);
      expect([reply.status, reply.codes]).toEqual([415, ['unsupported_charset']]);
      await expectRefusalLogged('unsupported_charset');
    });

    it('still reads a complete form: the csr file, or the csr field (201)', async () => {
      const asFile = (await makeCsr('hostile_conn-TE1002-file')).csr;
      const file = await api(
        'PUT',
        `${LINES}/TE1002/csr`,
        { 'content-type': multipart() },
        form(fieldPart('note', 'x'), filePart('csr', asFile)),
      );
      expect(file.status).toBe(201);
      const asField = (await makeCsr('hostile_conn-TE1002-field')).csr;
      const field = await api(
        'PUT',
        `${LINES}/TE1002/csr`,
        { 'content-type': multipart() },
        form(fieldPart('csr', asField)),
      );
      expect(field.status).toBe(201);
    });

    it('takes field names that are not UTF-8 as names (no crash, the upload is judged on its csr)', async () => {
      const name = Buffer.from([0xff, 0xfe, 0x80, 0x41]);
      const body = Buffer.concat([
        Buffer.from('--B\r\nContent-Disposition: form-data; name="'),
        name,
        Buffer.from(`"\r\n\r\n${MARKER}\r\n--B--\r\n`),
      ]);
      const reply = await api('PUT', `${LINES}/TE1002/csr`, { 'content-type': multipart() }, body);
      expect([reply.status, reply.codes]).toEqual([422, ['malformed_csr']]);
      expect((await rawRequest(web.url, 'GET', '/healthz')).status).toBe(200);
    });
  });

  describe('the upload form of the certificates tab', () => {
    it.each(BROKEN_FORMS)('answers a form %s with a 400 page', async (_name, type, body) => {
      const reply = await page('POST', `${TAB}/environments/TE1002/csr`, { 'content-type': type }, body);
      // `multipart/form-dataX` is no multipart form: the page never reads it, its CSRF check refuses it.
      if (type.startsWith('multipart/form-dataX')) {
        expect(reply.status).toBe(403);
        return;
      }
      expect(reply.status).toBe(400);
      expect(reply.headers['content-type']).toMatch(/^text\/html/);
      expect(reply.text).toContain('The form could not be read');
      noStack(reply);
      await expectRefusalLogged('malformed_multipart');
    });

    it('answers a cut-off form with a valid CSRF token the same (it is read before the check)', async () => {
      const body = `${fieldPart('_csrf', client.csrf ?? '')}\r\n${filePart('csr', MARKER)}`;
      const reply = await page(
        'POST',
        `${TAB}/environments/TE1002/csr`,
        { 'content-type': multipart() },
        body,
      );
      expect(reply.status).toBe(400);
      expect(reply.text).toContain('The form could not be read');
      await expectRefusalLogged('malformed_multipart');
    });
  });

  describe('content encodings and charsets', () => {
    const json = JSON.stringify({ technicalName: 'enc_conn', name: MARKER });
    const cases: [string, Record<string, string>, Buffer | string, number, string][] = [
      ['content-encoding: xyz', { 'content-encoding': 'xyz' }, json, 415, 'unsupported_encoding'],
      ['gzip that is not gzip', { 'content-encoding': 'gzip' }, json, 400, 'malformed_encoding'],
      ['deflate that is not deflate', { 'content-encoding': 'deflate' }, json, 400, 'malformed_encoding'],
      ['br that is not brotli', { 'content-encoding': 'br' }, json, 400, 'malformed_encoding'],
      [
        'cut-off gzip',
        { 'content-encoding': 'gzip' },
        gzipSync(json).subarray(0, 12),
        400,
        'malformed_encoding',
      ],
      [
        'gzip that unpacks to more than 64 KiB',
        { 'content-encoding': 'gzip' },
        gzipSync(Buffer.alloc(200 * 1024, MARKER)),
        413,
        'body_too_large',
      ],
    ];

    it.each(cases)('answers %s on an API route', async (_name, headers, body, status, code) => {
      const reply = await api(
        'POST',
        '/api/connectors',
        { 'content-type': 'application/json', ...headers },
        body,
      );
      expect([reply.status, reply.codes]).toEqual([status, [code]]);
      noStack(reply);
      await expectRefusalLogged(code);
    });

    it('reads gzip that is gzip (201)', async () => {
      const body = gzipSync(JSON.stringify({ technicalName: 'gzip_conn', name: 'Gzip' }));
      const reply = await api(
        'POST',
        '/api/connectors',
        { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body,
      );
      expect(reply.status).toBe(201);
    });

    it('answers a bogus charset on an API route without a 5xx (the API reads bytes, not text)', async () => {
      const reply = await api(
        'POST',
        '/api/connectors',
        { 'content-type': 'application/json; charset=x-bogus' },
        json,
      );
      expect(reply.status).toBeLessThan(500);
      expect(log.text()).not.toContain(MARKER);
    });

    const form = `token=${MARKER}&_csrf=x`;
    const loginCases: [string, Record<string, string>, Buffer | string, number, string][] = [
      ['content-encoding: xyz', { 'content-encoding': 'xyz' }, form, 415, 'unsupported_encoding'],
      [
        'a bogus charset',
        { 'content-type': 'application/x-www-form-urlencoded; charset=x-bogus' },
        form,
        415,
        'unsupported_charset',
      ],
      ['gzip that is not gzip', { 'content-encoding': 'gzip' }, form, 400, 'malformed_encoding'],
    ];
    it.each(loginCases)(
      'answers %s on POST /login with an error page',
      async (_name, headers, body, status, code) => {
        const reply = await page(
          'POST',
          '/login',
          { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body,
        );
        expect(reply.status).toBe(status);
        expect(reply.headers['content-type']).toMatch(/^text\/html/);
        expect(reply.text).toContain('The form could not be read');
        noStack(reply);
        await expectRefusalLogged(code);
      },
    );

    it('answers a path that cannot be decoded with 400 malformed_path (API) and a 400 page', async () => {
      const apiReply = await api(
        'POST',
        '/api/connectors/%C0%AF/versions',
        { 'content-type': 'application/json' },
        json,
      );
      expect([apiReply.status, apiReply.codes]).toEqual([400, ['malformed_path']]);
      await expectRefusalLogged('malformed_path');
      log.clear();
      const pageReply = await page('GET', '/connectors/x/versions/%C0%AF', {});
      expect(pageReply.status).toBe(400);
      expect(pageReply.text).toContain('The address is not valid');
      await expectRefusalLogged('malformed_path');
    });

    it.each([
      ['POST', '/api/admin/suppliers', { name: `a\u0000${MARKER}`, email: 'x@example.com' }],
      ['POST', '/api/connectors', { technicalName: 'nul_conn', name: `a\u0000${MARKER}` }],
      ['POST', LINES, { customerCode: `\u0000${MARKER}` }],
      ['PUT', `${LINES}/TE1002/csr`, { csr: `-----BEGIN\u0000${MARKER}` }],
      ['PATCH', '/api/certificates/01', { enabled: false, reason: `\u0000${MARKER}` }],
    ])(
      "answers a JSON text holding NUL with 400 nul_in_text (%s %s), never PostgreSQL's 500",
      async (verb, path, body) => {
        const token = path.startsWith('/api/admin') ? 'admin-token-for-web-tests-0123456789' : undefined;
        const reply = await rawRequest(
          web.url,
          verb,
          path,
          { authorization: `Bearer ${token ?? supplierToken()}`, 'content-type': 'application/json' },
          JSON.stringify(body),
        );
        expect([reply.status, reply.codes]).toEqual([400, ['nul_in_text']]);
        await expectRefusalLogged('nul_in_text');
      },
    );

    it.each([
      ['/login', 'token=ons_%00'],
      [`${TAB}/environments`, 'customerCode=%00TE'],
      [`${TAB}/environments/TE1002/enabled`, 'confirm=yes&serial=01&reason=%00'],
    ])('answers a form field holding NUL on %s with a 400 page', async (path, fields) => {
      const reply = await page(
        'POST',
        path,
        { 'content-type': 'application/x-www-form-urlencoded' },
        `_csrf=${encodeURIComponent(client.csrf ?? '')}&${fields}&m=${MARKER}`,
      );
      expect(reply.status).toBe(400);
      expect(reply.text).toContain('holds a NUL character');
      await expectRefusalLogged('nul_in_text');
    });

    it.each([
      `${LINES}/%00/csr`,
      '/api/connectors/hostile_conn/versions/%00/environments',
      '/api/connectors/%00/versions',
      `${TAB.replace('1.0', '%00')}`,
      '/connectors/%1F',
    ])('answers %s (an encoded control character) with 400 malformed_path', async (path) => {
      const reply = await page('PUT', path, { authorization: `Bearer ${supplierToken()}` });
      expect([reply.status, reply.codes]).toEqual([400, ['malformed_path']]);
      const get = await page('GET', path, { authorization: `Bearer ${supplierToken()}` });
      expect([get.status, get.codes]).toEqual([400, ['malformed_path']]);
    });

    it('answers content-encoding: xyz on the queue board (its own JSON parser) with 415', async () => {
      const reply = await rawRequest(
        web.url,
        'PUT',
        '/admin/queues/api/queues/pause',
        {
          authorization: `Bearer admin-token-for-web-tests-0123456789`,
          'content-type': 'application/json; charset=x-bogus',
        },
        json,
      );
      expect([reply.status, reply.codes]).toEqual([415, ['unsupported_charset']]);
      await expectRefusalLogged('unsupported_charset');
    });
  });
});

describe('readMultipart', () => {
  const headers = { 'content-type': multipart() };

  it('refuses a file cut at the size limit (413), never hands on a part of it', async () => {
    const body = Buffer.from(form(filePart('csr', 'A'.repeat(64 * 1024 + 1))));
    await expect(readMultipart(headers, body)).rejects.toMatchObject({ status: 413, code: 'body_too_large' });
  });

  it('refuses a field cut at the size limit (413)', async () => {
    const body = Buffer.from(form(fieldPart('csr', 'A'.repeat(64 * 1024 + 1))));
    await expect(readMultipart(headers, body)).rejects.toMatchObject({ status: 413, code: 'body_too_large' });
  });

  it('keeps the first of two fields or files of one name, and __proto__ as a plain name', async () => {
    const body = Buffer.from(
      form(
        fieldPart('a', '1'),
        fieldPart('a', '2'),
        fieldPart('__proto__', 'p'),
        filePart('f', 'x'),
        filePart('f', 'y'),
      ),
    );
    const read = await readMultipart(headers, body);
    expect({ ...read.fields }).toEqual({ a: '1', ['__proto__']: 'p' });
    expect(Object.getPrototypeOf(read.fields)).toBe(null);
    expect([...read.files].map(([k, v]) => [k, v.toString()])).toEqual([['f', 'x']]);
  });

  it.each([
    ['a field', fieldPart('', 'x')],
    ['a file', filePart('', 'x')],
  ])('refuses %s without a name (name="") as malformed (found by the fuzz suite)', async (_name, part) => {
    await expect(readMultipart(headers, Buffer.from(form(part)))).rejects.toMatchObject({
      status: 400,
      code: 'malformed_multipart',
    });
  });

  it('refuses a nameless file in a form that is also cut off, without an unhandled stream error (found by the fuzz suite)', async () => {
    const errors: unknown[] = [];
    const onError = (error: unknown) => errors.push(error);
    process.on('uncaughtException', onError);
    try {
      const cut = Buffer.from(filePart('', 'AAAA')); // no closing boundary
      await expect(readMultipart(headers, cut)).rejects.toMatchObject({
        status: 400,
        code: 'malformed_multipart',
      });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(errors).toEqual([]);
  });

  it('reads 20 fields and 2 files, the most a form may have', async () => {
    const parts = [
      ...Array.from({ length: 20 }, (_, i) => fieldPart(`f${i}`, 'v')),
      filePart('a', '1'),
      filePart('b', '2'),
    ];
    const read = await readMultipart(headers, Buffer.from(form(...parts)));
    expect([Object.keys(read.fields).length, read.files.size]).toEqual([20, 2]);
  });
});
