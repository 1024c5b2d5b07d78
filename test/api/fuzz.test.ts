import { createHmac, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, API, examplePayload, startBot, WEBHOOK_SECRET, type BotHarness } from '../helpers/github.ts';
import { captureLog, type CapturedLog } from '../helpers/log-capture.ts';
import { rawRequest, type RawReply } from '../helpers/raw-http.ts';
import { makeCsr } from '../helpers/services.ts';
import { PageClient } from '../helpers/web-client.ts';

/*
 * The HTTP edge under generated hostile input: bodies, headers (content types, multipart
 * boundaries, encodings, charsets), methods and paths at every route, with and without a
 * supplier token, the admin token, a signed-in web session (with its CSRF token), and at the
 * webhook with valid signatures over odd payloads. For every request: never a 5xx, the process
 * alive (/healthz), and no byte of a body in the log (each body carries MARKER). The seed is
 * fixed (FUZZ_SEED overrides it) and printed with any failure, with the shrunk request.
 */

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_240_612);
const MARKER = `FZ${randomBytes(6).toString('hex')}ZF`;
const T = 'fuzz_conn';
const V = '1.0';
const C = 'TE1002';

/** A request as generated. */
interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/** Attaches a short description, so that a counterexample reads well (not as a byte list). */
function described(r: FuzzRequest): FuzzRequest {
  const body = r.body
    ? `${r.body.length} bytes, starting ${JSON.stringify(r.body.subarray(0, 400).toString('latin1'))}`
    : 'no body';
  return Object.assign(r, {
    [fc.toStringMethod]: () => `${r.method} ${r.path.slice(0, 200)} ${JSON.stringify(r.headers)} (${body})`,
  });
}

// ---------------------------------------------------------------- the service under test

let bot: BotHarness;
let log: CapturedLog;
let supplierToken = '';
let client: PageClient;
let serial = '';

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  // GitHub answers everything the bot may ask after an odd but validly signed delivery.
  nock(API)
    .persist()
    .post(/\/app\/installations\/\d+\/access_tokens/)
    .reply(201, { token: 'ghs_test', expires_at: new Date(Date.now() + 3600_000).toISOString() })
    .get(/.*/)
    .reply(404, { message: 'Not Found' })
    .post(/.*/)
    .reply(404, { message: 'Not Found' })
    .patch(/.*/)
    .reply(404, { message: 'Not Found' })
    .delete(/.*/)
    .reply(404, { message: 'Not Found' });
  log = captureLog('debug');
  bot = await startBot({ logger: log.logger });
  const supplier = await bot.call<{ token: string }>('POST', '/api/admin/suppliers', ADMIN, {
    name: 'Fuzz Software',
    email: 'pki@example.com',
    githubLogins: ['supplier-dev'],
  });
  supplierToken = supplier.json.token;
  await bot.call('POST', '/api/connectors', supplierToken, { technicalName: T, name: 'Fuzz' });
  await bot.call('POST', `/api/connectors/${T}/versions`, supplierToken, { version: V });
  await bot.call('POST', `/api/connectors/${T}/versions/${V}/environments`, supplierToken, {
    customerCode: C,
  });
  const { csr } = await makeCsr(`${T}-${C}-fuzz`);
  const signed = await rawRequest(
    bot.url,
    'PUT',
    `/api/connectors/${T}/versions/${V}/environments/${C}/csr`,
    { authorization: `Bearer ${supplierToken}`, 'content-type': 'text/plain' },
    csr,
  );
  serial = (JSON.parse(signed.text) as { certificate: { serial: string } }).certificate.serial;
  client = new PageClient(bot.url);
  await client.signIn(supplierToken);
  await client.get(`/connectors/${T}/versions/${V}`);
  log.clear();
}, 90_000);

afterAll(async () => {
  await bot?.close();
  nock.cleanAll();
  nock.enableNetConnect();
});

// ---------------------------------------------------------------- generators

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});
/** Text that carries the marker somewhere (what no log line may show). */
const marked = fc
  .tuple(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }))
  .map(([a, b]) => `${a}${MARKER}${b}`);
const anyBytes = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 300 }).map((t) => Buffer.from(t)) },
  fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
);
const markedBytes = fc.tuple(anyBytes, anyBytes).map(([a, b]) => Buffer.concat([a, Buffer.from(MARKER), b]));

const boundaryChars = "abcXYZ019'()+_,-./:=? ";
const boundary = fc.oneof(
  fc.constant('B'),
  fc.string({ unit: fc.constantFrom(...boundaryChars.split('')), minLength: 1, maxLength: 70 }),
  fc.constant('x'.repeat(300)),
  fc.constant(''),
);

/** A multipart body: parts with odd names, filenames and types, the marker inside, often cut off. */
const multipartBody = (csrf: fc.Arbitrary<string>) =>
  fc
    .record({
      boundary,
      parts: fc.array(
        fc.record({
          name: fc.oneof(fc.constantFrom('csr', '_csrf', 'enabled', 'token', '__proto__'), printable),
          filename: fc.option(fc.oneof(printable, fc.constant('x.csr')), { nil: undefined }),
          type: fc.option(
            fc.oneof(
              fc.constantFrom(
                'application/pkcs10',
                'text/plain; charset=utf-16le',
                'text/plain; charset=x-bogus',
              ),
              printable,
            ),
            { nil: undefined },
          ),
          content: fc.oneof(
            markedBytes,
            marked.map((s) => Buffer.from(s)),
          ),
          rawName: fc.option(anyBytes, { nil: undefined }),
        }),
        { maxLength: 25 },
      ),
      csrf,
      withCsrf: fc.boolean(),
      cut: fc.option(fc.nat(), { nil: undefined }),
      closed: fc.boolean(),
    })
    .map(({ boundary: b, parts, csrf: token, withCsrf, cut, closed }) => {
      const chunks: Buffer[] = [];
      const all = withCsrf ? [{ name: '_csrf', content: Buffer.from(token) }, ...parts] : parts;
      for (const part of all) {
        const p = part as {
          name: string;
          filename?: string;
          type?: string;
          content: Buffer;
          rawName?: Buffer;
        };
        chunks.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="`));
        chunks.push(p.rawName ?? Buffer.from(p.name));
        chunks.push(Buffer.from(`"${p.filename === undefined ? '' : `; filename="${p.filename}"`}\r\n`));
        if (p.type) chunks.push(Buffer.from(`Content-Type: ${p.type}\r\n`));
        chunks.push(Buffer.from('\r\n'), p.content, Buffer.from('\r\n'));
      }
      if (closed) chunks.push(Buffer.from(`--${b}--\r\n`));
      const body = Buffer.concat(chunks);
      const type = `multipart/form-data; boundary=${/[\s'()+,/:=?]/.test(b) || b === '' ? `"${b}"` : b}`;
      return { type, body: cut === undefined ? body : body.subarray(0, cut % (body.length + 1)) };
    });

const jsonBody = fc
  .oneof(
    fc.record({ csr: marked }),
    fc.record({ name: marked, technicalName: fc.oneof(fc.constant('t_x'), marked), email: marked }),
    fc.record({ version: marked }),
    fc.record({ customerCode: fc.oneof(fc.constant('TE1234'), marked) }),
    fc.record({ enabled: fc.oneof(fc.boolean(), marked), reason: marked }),
    fc.dictionary(printable, fc.oneof(marked, fc.jsonValue())).map((d) => ({ ...d, m: MARKER })),
  )
  .map((value) => JSON.stringify(value));

const formBody = (csrf: fc.Arbitrary<string>) =>
  fc
    .record({
      fields: fc.dictionary(
        fc.oneof(
          fc.constantFrom('token', 'customerCode', 'enabled', 'confirm', 'serial', 'reason', 'next'),
          printable,
        ),
        marked,
        { maxKeys: 8 },
      ),
      csrf,
      withCsrf: fc.boolean(),
      raw: fc.boolean(),
    })
    .map(({ fields, csrf: token, withCsrf, raw }) => {
      const all = withCsrf ? { _csrf: token, ...fields } : fields;
      // `raw`: the marker and whatever else unescaped, as a careless client sends it.
      return raw
        ? Object.entries(all)
            .map(([k, v]) => `${k}=${v}`)
            .join('&')
        : new URLSearchParams(all).toString();
    });

const pemBody = markedBytes.map((b) =>
  Buffer.from(
    `-----BEGIN CERTIFICATE REQUEST-----\n${b.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`,
  ),
);

/** A content type and a body of any kind. */
const typedBody = (csrf: fc.Arbitrary<string>) =>
  fc.oneof(
    jsonBody.map((b) => ({ type: 'application/json', body: Buffer.from(b) })),
    formBody(csrf).map((b) => ({ type: 'application/x-www-form-urlencoded', body: Buffer.from(b) })),
    multipartBody(csrf),
    pemBody.map((body) => ({ type: 'application/pkcs10', body })),
    fc
      .tuple(fc.constantFrom('text/plain', 'application/octet-stream', 'application/pkcs10'), markedBytes)
      .map(([type, body]) => ({ type, body })),
    fc.constant({ type: 'application/json', body: Buffer.alloc(70 * 1024, MARKER) }),
  );

/** A content-type header: the body's own, none, an odd one, or the body's with a charset. */
const contentType = (own: string) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant<string | undefined>(own) },
    fc.constant<string | undefined>(undefined),
    fc.constantFrom(
      `${own}; charset=x-bogus`,
      `${own}; charset=utf-16`,
      `${own}; charset=`,
      `${own};;;`,
      'multipart/form-data',
      '*/*',
      ';',
    ),
    printable,
  );

type Coding = 'identity' | 'gzip' | 'deflate' | 'br' | 'xyz' | 'gzip-bad' | 'gzip-cut' | 'none';
const coding = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Coding>('none') },
  fc.constantFrom<Coding>('identity', 'gzip', 'deflate', 'br', 'xyz', 'gzip-bad', 'gzip-cut'),
);
function encode(body: Buffer, how: Coding): { body: Buffer; header?: string } {
  switch (how) {
    case 'none':
      return { body };
    case 'identity':
      return { body, header: 'identity' };
    case 'gzip':
      return { body: gzipSync(body), header: 'gzip' };
    case 'deflate':
      return { body: deflateSync(body), header: 'deflate' };
    case 'br':
      return { body: brotliCompressSync(body), header: 'br' };
    case 'xyz':
      return { body, header: 'xyz' };
    case 'gzip-bad':
      return { body, header: 'gzip' };
    case 'gzip-cut': {
      const zipped = gzipSync(body);
      return { body: zipped.subarray(0, Math.max(1, zipped.length >> 1)), header: 'gzip' };
    }
  }
}

/** A path segment: the right one, another real-looking one, or garbage (encoded to be sendable). */
const segment = (right: string) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(right) },
    fc.constantFrom(
      'hr_integration',
      '2.0',
      'CF1234',
      'te1002',
      '..',
      '%',
      '%zz',
      '%C0%AF',
      '%00',
      'a'.repeat(3000),
    ),
    fc.string({ maxLength: 20 }).map((s) => encodeURIComponent(s)),
  );

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

/** Every route of the service, by its own method, with generated path parameters. */
const route = fc.oneof(
  fc.constantFrom(
    ['GET', '/healthz'],
    ['GET', '/ca.pem'],
    ['GET', '/crl'],
    ['GET', '/crl.pem'],
    ['GET', '/metrics'],
    ['GET', '/admin/queues'],
    ['PUT', '/admin/queues/api/queues/github/retry/failed'],
    ['GET', '/admin/queues/api/queues'],
    ['POST', '/api/admin/suppliers'],
    ['GET', '/api/admin/requests?state=awaiting_approval'],
    ['GET', '/api/connectors'],
    ['POST', '/api/connectors'],
    ['GET', '/'],
    ['GET', '/login'],
    ['POST', '/login'],
    ['GET', '/logout'],
    ['GET', '/connectors'],
    ['GET', '/assets/style.css'],
    ['GET', '/nowhere'],
    ['POST', '/api/github/webhooks'],
  ) as fc.Arbitrary<[string, string]>,
  fc
    .record({ t: segment(T), v: segment(V), c: segment(C), s: segment(''), which: fc.nat(13) })
    .map(({ t, v, c, s, which }): [string, string] => {
      const api = `/api/connectors/${t}/versions/${v}/environments`;
      const tab = `/connectors/${t}/versions/${v}`;
      const all: [string, string][] = [
        ['POST', `/api/admin/connectors/${t}/versions/${v}/approve`],
        ['POST', `/api/connectors/${t}/versions`],
        ['GET', api],
        ['POST', api],
        ['PUT', `${api}/${c}/csr`],
        ['GET', `${api}/${c}/certificate.pem`],
        ['PATCH', `/api/certificates/${s || serial}`],
        ['GET', `/connectors/${t}`],
        ['GET', tab],
        ['POST', `${tab}/environments`],
        ['POST', `${tab}/environments/${c}/csr`],
        ['GET', `${tab}/environments/${c}/certificate.pem`],
        ['POST', `${tab}/environments/${c}/enabled`],
        ['GET', `/api/admin/requests?state=${encodeURIComponent(s)}`],
      ];
      return all[which]!;
    }),
);

type Who = 'nobody' | 'supplier' | 'admin' | 'wrong' | 'session' | 'garbage';
const who = fc.constantFrom<Who>('nobody', 'supplier', 'admin', 'wrong', 'session', 'session', 'garbage');
function credentials(w: Who, junk: string): Record<string, string> {
  switch (w) {
    case 'nobody':
      return {};
    case 'supplier':
      return { authorization: `Bearer ${supplierToken}` };
    case 'admin':
      return { authorization: `Bearer ${ADMIN}` };
    case 'wrong':
      return { authorization: `Bearer ons_${junk}` };
    case 'session':
      return client.cookie ? { cookie: client.cookie } : {};
    case 'garbage':
      return { authorization: junk, cookie: junk };
  }
}

const request = fc
  .record({
    route,
    // Mostly the route's own method, else any.
    verb: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, fc.constantFrom(...METHODS)),
    who,
    junk: printable,
    typed: typedBody(fc.oneof(fc.constant('valid'), printable)),
    withBody: fc.boolean(),
    coding,
    typeChoice: fc.nat(),
    odd: fc.option(printable, { nil: undefined }),
    accept: fc.constantFrom(undefined, 'text/html', 'application/json', '*/*'),
  })
  .chain((r) => contentType(r.typed.type).map((type) => ({ ...r, type })))
  .map((r): FuzzRequest => {
    const [own, path] = r.route;
    const methodUsed = r.verb ?? own;
    const raw = Buffer.from(r.typed.body.toString('latin1').replace('valid', client.csrf ?? ''), 'latin1');
    const sendBody = r.withBody || ['POST', 'PUT', 'PATCH'].includes(methodUsed);
    const encoded = encode(raw, r.coding);
    const headers: Record<string, string> = { ...credentials(r.who, r.junk) };
    if (sendBody && r.type !== undefined) headers['content-type'] = r.type;
    if (sendBody && encoded.header) headers['content-encoding'] = encoded.header;
    if (r.accept) headers['accept'] = r.accept;
    if (r.odd !== undefined) headers['x-odd'] = r.odd;
    return described({ method: methodUsed, path, headers, body: sendBody ? encoded.body : undefined });
  });

// ---------------------------------------------------------------- judging an answer

/**
 * Wrong tokens and sign-in forms come from an address of their own: after ten failures a minute
 * an address is throttled (429 for every token it sends), and the valid callers' requests must
 * go on reaching the routes behind authentication.
 */
function clientAddress(r: FuzzRequest): string {
  const auth = r.headers['authorization'];
  const valid = auth === `Bearer ${supplierToken}` || auth === `Bearer ${ADMIN}`;
  return (auth !== undefined && !valid) || r.path.startsWith('/login') ? '127.0.0.9' : '127.0.0.1';
}

const seen = { requests: 0, statuses: new Map<number, number>() };

/** Sends `r`; asserts no 5xx, the process alive, and no body bytes in what was logged meanwhile. */
async function judge(r: FuzzRequest): Promise<void> {
  log.clear();
  let reply: RawReply | undefined;
  try {
    reply = await rawRequest(bot.url, r.method, r.path, r.headers, r.body, clientAddress(r));
  } catch (error) {
    // The client may refuse what it generated (an invalid header); the server must still be up.
    if (
      !/ERR_INVALID|ERR_UNESCAPED|Invalid character/.test(String((error as { code?: string }).code ?? error))
    )
      throw error;
  }
  const health = await rawRequest(bot.url, 'GET', '/healthz');
  expect(health.status, 'the service is alive and healthy').toBe(200);
  seen.requests++;
  if (reply) seen.statuses.set(reply.status, (seen.statuses.get(reply.status) ?? 0) + 1);
  expect(log.text(), 'no body bytes in the log').not.toContain(MARKER);
  if (reply) expect(reply.text).not.toMatch(/\n\s+at .+:\d+:\d+/);
  if (reply) {
    expect(reply.status, `${r.method} ${r.path.slice(0, 120)}: ${reply.text.slice(0, 300)}`).toBeLessThan(
      500,
    );
  }
  const errors = log.entries().filter((e) => Number(e['level']) >= 50);
  expect(errors, 'no error-level log line').toEqual([]);
}

const params = (numRuns: number) => ({ seed: SEED, numRuns, verbose: 1 as const });

// ---------------------------------------------------------------- the properties

describe('fuzzing the HTTP edge (real service, PostgreSQL, Redis)', () => {
  it('every route, every kind of caller: no 5xx, alive, nothing of the body logged', async () => {
    await fc.assert(fc.asyncProperty(request, judge), params(800));
  }, 120_000);

  it('multipart CSR uploads (API and page) with odd boundaries, parts and cuts', async () => {
    const upload = fc
      .record({
        page: fc.boolean(),
        form: multipartBody(fc.constant('valid')),
        coding,
      })
      .map(({ page, form, coding: how }): FuzzRequest => {
        const raw = Buffer.from(form.body.toString('latin1').replace('valid', client.csrf ?? ''), 'latin1');
        const encoded = encode(raw, how);
        const headers: Record<string, string> = page
          ? { cookie: client.cookie ?? '' }
          : { authorization: `Bearer ${supplierToken}` };
        headers['content-type'] = form.type;
        if (encoded.header) headers['content-encoding'] = encoded.header;
        const path = page
          ? `/connectors/${T}/versions/${V}/environments/${C}/csr`
          : `/api/connectors/${T}/versions/${V}/environments/${C}/csr`;
        return described({ method: page ? 'POST' : 'PUT', path, headers, body: encoded.body });
      });
    await fc.assert(fc.asyncProperty(upload, judge), params(300));
  }, 120_000);

  it('CSR uploads of any bytes, as the body or as the file of a well-formed form', async () => {
    const bytes = fc.oneof(
      pemBody,
      markedBytes,
      marked.map((t) => Buffer.from(t, 'utf16le')),
    );
    const upload = fc
      .record({
        page: fc.boolean(),
        bytes,
        type: fc.constantFrom('text/plain', 'application/pkcs10', 'application/octet-stream'),
      })
      .map(({ page, bytes: csr, type }): FuzzRequest => {
        if (!page)
          return described({
            method: 'PUT',
            path: `/api/connectors/${T}/versions/${V}/environments/${C}/csr`,
            headers: { authorization: `Bearer ${supplierToken}`, 'content-type': type },
            body: csr,
          });
        const head = `--B\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${client.csrf ?? ''}\r\n`;
        const file = `--B\r\nContent-Disposition: form-data; name="csr"; filename="x.csr"\r\nContent-Type: ${type}\r\n\r\n`;
        return described({
          method: 'POST',
          path: `/connectors/${T}/versions/${V}/environments/${C}/csr`,
          headers: { cookie: client.cookie ?? '', 'content-type': 'multipart/form-data; boundary=B' },
          body: Buffer.concat([Buffer.from(head + file), csr, Buffer.from('\r\n--B--\r\n')]),
        });
      });
    await fc.assert(fc.asyncProperty(upload, judge), params(150));
  }, 120_000);

  it('the webhook with valid signatures over odd payloads and headers', async () => {
    const payload = fc.oneof(
      // A real delivery of each event the bot handles, with fields removed or replaced.
      fc
        .record({
          event: fc.constantFrom<[string, string]>(
            ['issues', 'opened'],
            ['issues', 'edited'],
            ['issues', 'labeled'],
            ['issue_comment', 'created'],
            ['issues', 'reopened'],
            ['issue_comment', 'edited'],
          ),
          drop: fc.array(
            fc.constantFrom('repository', 'issue', 'installation', 'comment', 'sender', 'action', 'label'),
            { maxLength: 3 },
          ),
          replace: fc.array(
            fc.tuple(
              fc.constantFrom('repository', 'issue', 'installation', 'comment', 'label', 'action'),
              fc.oneof(
                marked,
                fc.jsonValue(),
                fc.constant(null),
                fc.record({ id: fc.jsonValue(), body: marked, number: fc.jsonValue() }),
              ),
            ),
            { maxLength: 3 },
          ),
          body: fc.oneof(marked, fc.constant(`### Connector\n\n${T}\n\n### CSR\n\n${MARKER}`)),
        })
        .map(({ event: [name, action], drop, replace, body }) => {
          const value = examplePayload(name!, action!) as Record<string, unknown>;
          const issue = value['issue'] as Record<string, unknown> | undefined;
          if (issue) issue['body'] = body;
          const comment = value['comment'] as Record<string, unknown> | undefined;
          if (comment) comment['body'] = `/approve ${body}`;
          for (const key of drop) delete value[key];
          for (const [key, v] of replace) value[key] = v;
          return { event: name!, text: JSON.stringify(value) };
        }),
      fc.record({ event: fc.constantFrom('issues', 'issue_comment', 'ping', 'push', ''), text: jsonBody }),
      fc.record({
        event: printable,
        text: fc.oneof(
          marked,
          markedBytes.map((b) => b.toString('latin1')),
        ),
      }),
    );
    const delivery = fc
      .record({ payload, coding, type: contentType('application/json'), id: fc.oneof(fc.uuid(), printable) })
      .map(({ payload: p, coding: how, type, id }): FuzzRequest => {
        const raw = Buffer.from(p.text, 'utf8');
        const encoded = encode(raw, how);
        const headers: Record<string, string> = {
          'x-github-event': p.event,
          'x-github-delivery': id,
          'x-hub-signature-256': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(raw).digest('hex')}`,
        };
        if (type !== undefined) headers['content-type'] = type;
        if (encoded.header) headers['content-encoding'] = encoded.header;
        return described({ method: 'POST', path: '/api/github/webhooks', headers, body: encoded.body });
      });
    await fc.assert(fc.asyncProperty(delivery, judge), params(300));
  }, 120_000);

  it('bodies that are shorter or longer than their Content-Length, and aborted uploads', async () => {
    const cases = fc.record({
      path: fc.constantFrom(
        `/api/connectors/${T}/versions/${V}/environments/${C}/csr`,
        '/api/connectors',
        '/login',
        '/api/github/webhooks',
        `/connectors/${T}/versions/${V}/environments/${C}/csr`,
      ),
      body: markedBytes,
      delta: fc.integer({ min: -20, max: 200 }),
      type: fc.constantFrom(
        'text/plain',
        'application/json',
        'multipart/form-data; boundary=B',
        'application/x-www-form-urlencoded',
      ),
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ path, body, delta, type }) => {
        log.clear();
        const length = Math.max(0, body.length + delta);
        await new Promise<void>((resolve) => {
          const url = new URL(bot.url);
          const socket = connect(Number(url.port), url.hostname, () => {
            socket.write(
              `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${supplierToken}\r\n` +
                `Cookie: ${client.cookie ?? ''}\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`,
            );
            socket.write(body);
            // Hang up without sending what the length promised (or with bytes beyond it).
            setTimeout(() => socket.destroy(), 20);
          });
          socket.on('data', (chunk: Buffer) => {
            const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? 0);
            if (status) expect(status).toBeLessThan(500);
          });
          socket.on('close', () => resolve());
          socket.on('error', () => resolve());
        });
        // The server notices the hang-up a moment later.
        await new Promise((r) => setTimeout(r, 10));
        expect((await rawRequest(bot.url, 'GET', '/healthz')).status).toBe(200);
        expect(log.text()).not.toContain(MARKER);
        expect(log.entries().filter((e) => Number(e['level']) >= 50)).toEqual([]);
      }),
      params(60),
    );
  }, 60_000);

  afterAll(() => {
    const statuses = [...seen.statuses].sort(([a], [b]) => a - b);
    console.info(
      `fuzz: seed ${SEED}, ${seen.requests} requests; ` +
        `statuses ${statuses.map(([s, n]) => `${s}×${n}`).join(' ')}`,
    );
  });
});
