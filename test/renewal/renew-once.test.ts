import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsr } from '../../src/ca/parse-csr.ts';
import { readCertsOnly } from '../../src/renewal/pkcs7.ts';
import {
  certificateJitter,
  renewOnce,
  type RenewDeps,
  type RenewRequest,
} from '../../src/renewal/renew-once.ts';
import { CA_DIR, openssl } from '../helpers/fixtures.ts';
import { freePort } from '../helpers/net.ts';
import {
  CA_PEM_PATH,
  certsOnly,
  issueClient,
  otherCaServerCertificate,
  quickKey,
  signWithTestCa,
  snapshot,
  startStandIn,
  type ClientFiles,
  type StandInHandler,
} from '../helpers/renewal.ts';

const DAY = 86_400_000;
let caPem: string;
let handler: StandInHandler;
let standIn: Awaited<ReturnType<typeof startStandIn>>;

beforeAll(async () => {
  caPem = await readFile(CA_PEM_PATH, 'utf8');
  standIn = await startStandIn((request) => handler(request));
});
afterAll(() => standIn.close());

/** The stand-in's honest EST answers: cacerts, and the test CA signing what the client sent. */
const honest: StandInHandler = async (request) => {
  if (request.path === '/.well-known/est/cacerts')
    return { status: 200, type: 'application/pkcs7-mime', body: await certsOnly([caPem]) };
  const pem = await signWithTestCa(request.body);
  return { status: 200, type: 'application/pkcs7-mime; smime-type=certs-only', body: await certsOnly([pem]) };
};
const refuse =
  (status: number, code: string, message = 'refused'): StandInHandler =>
  async () => ({
    status,
    type: 'application/json',
    body: JSON.stringify({ errors: [{ code, message }] }),
  });

function deps(overrides: Partial<RenewDeps> = {}): RenewDeps & { keys: KeyObject[] } {
  const keys: KeyObject[] = [];
  return {
    now: () => new Date(),
    jitter: () => 0,
    newKey: async () => {
      const key = quickKey();
      keys.push(key);
      return key;
    },
    timeoutMs: 5_000,
    keys,
    ...overrides,
  };
}

function request(files: ClientFiles, extra: Partial<RenewRequest> = {}): RenewRequest {
  return {
    paths: { cert: files.cert, key: files.key },
    url: new URL(standIn.url),
    caPem,
    beforeMs: 400 * DAY,
    ...extra,
  };
}

describe('renewOnce against an EST stand-in', () => {
  it('renews a due certificate: mTLS with the current pair, a CSR of the subject, the checked answer installed', async () => {
    handler = honest;
    const files = await issueClient();
    const old = await snapshot(files.dir);
    const d = deps();
    const outcome = await renewOnce(request(files), d);
    expect(outcome).toMatchObject({ kind: 'renewed' });
    const sent = standIn.requests.at(-1)!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/.well-known/est/simplereenroll');
    expect(sent.contentType).toBe('application/pkcs10');
    expect(sent.peer).toStrictEqual(new X509Certificate(old['client.pem']!.content).raw);
    const csr = parseCsr(Buffer.from(sent.body.replace(/\s+/g, ''), 'base64'));
    expect(csr.ok).toBe(true);

    const now = await snapshot(files.dir);
    expect(now['client.pem.previous']).toStrictEqual(old['client.pem']);
    expect(now['client.key.previous']).toStrictEqual(old['client.key']);
    expect(now['client.key']!.mode).toBe(0o600);
    const cert = new X509Certificate(now['client.pem']!.content);
    expect(cert.checkPrivateKey(createPrivateKey(now['client.key']!.content))).toBe(true);
    expect(cert.checkPrivateKey(d.keys[0]!)).toBe(true);
    expect(cert.subject).toBe(new X509Certificate(old['client.pem']!.content).subject);
    expect((await openssl(['verify', '-CAfile', CA_PEM_PATH, files.cert])).output).toContain(': OK');
  });

  it('is not due without --before for a fresh certificate, and sends nothing', async () => {
    handler = honest;
    const files = await issueClient();
    const before = await snapshot(files.dir);
    const count = standIn.requests.length;
    const outcome = await renewOnce(
      request(files, { beforeMs: undefined }),
      deps({ jitter: certificateJitter }),
    );
    expect(outcome.kind).toBe('not_due');
    expect(standIn.requests.length).toBe(count);
    expect(await snapshot(files.dir)).toStrictEqual(before);
  });

  describe("a server whose TLS certificate is from another CA than the clients' (--ca is that CA only)", () => {
    let tlsOther: Awaited<ReturnType<typeof startStandIn>>;
    let otherCa: string;
    let cacerts: string[];
    beforeAll(async () => {
      otherCa = await readFile(join(CA_DIR, 'other-ca.pem'), 'utf8');
      tlsOther = await startStandIn(
        async (r) => {
          if (r.path.endsWith('/cacerts'))
            return { status: 200, type: 'application/pkcs7-mime', body: await certsOnly(cacerts) };
          return honest(r);
        },
        await otherCaServerCertificate(),
      );
    });
    afterAll(() => tlsOther.close());

    it('takes the CA from GET cacerts over the TLS verified with --ca', async () => {
      cacerts = [caPem];
      const files = await issueClient();
      const outcome = await renewOnce(request(files, { url: new URL(tlsOther.url), caPem: otherCa }), deps());
      expect(outcome.kind === 'failed' ? outcome.failure : outcome.kind).toBe('renewed');
      expect(tlsOther.requests.map((r) => r.path)).toStrictEqual([
        '/.well-known/est/cacerts',
        '/.well-known/est/simplereenroll',
      ]);
    });

    it('sends no CSR when cacerts does not hold the CA that issued the current certificate', async () => {
      cacerts = [otherCa];
      const files = await issueClient();
      const before = await snapshot(files.dir);
      const count = tlsOther.requests.length;
      const outcome = await renewOnce(request(files, { url: new URL(tlsOther.url), caPem: otherCa }), deps());
      expect(outcome).toMatchObject({ kind: 'failed', failure: { code: 'ca_unavailable' } });
      expect(tlsOther.requests.slice(count).map((r) => r.path)).toStrictEqual(['/.well-known/est/cacerts']);
      expect(await snapshot(files.dir)).toStrictEqual(before);
    });
  });

  it.each<[string, StandInHandler, RegExp]>([
    [
      'two certificates',
      async (r) => ({
        status: 200,
        type: 'application/pkcs7-mime',
        body: await certsOnly([await signWithTestCa(r.body), caPem]),
      }),
      /2 certificates, not exactly one/,
    ],
    [
      'no certificate',
      async () => ({ status: 200, type: 'application/pkcs7-mime', body: await certsOnly([]) }),
      /0 certificates/,
    ],
    [
      'the old certificate again',
      async () => ({ status: 200, type: 'application/pkcs7-mime', body: await certsOnly([currentPem]) }),
      /not for the new key/,
    ],
    [
      'a certificate from another CA',
      async () => ({
        status: 200,
        type: 'application/pkcs7-mime',
        body: await certsOnly([await readFile(join(CA_DIR, 'other-client.pem'), 'utf8')]),
      }),
      /not signed by the CA/,
    ],
    [
      'the CA certificate itself',
      async () => ({ status: 200, type: 'application/pkcs7-mime', body: await certsOnly([caPem]) }),
      /not signed by the CA|not for the new key/,
    ],
    [
      'a certificate that expires before the current one',
      async (r) => ({
        status: 200,
        type: 'application/pkcs7-mime',
        body: await certsOnly([await signWithTestCa(r.body, new Date(Date.now() - 10 * DAY))]),
      }),
      /before the current one/,
    ],
    ['not base64', async () => ({ status: 200, type: 'application/pkcs7-mime', body: '%%%' }), /not base64/],
    [
      'base64 of something else',
      async () => ({
        status: 200,
        type: 'application/pkcs7-mime',
        body: Buffer.from('hello world!').toString('base64'),
      }),
      /answer_rejected/,
    ],
  ])('refuses an answer with %s, and writes nothing', async (_, answer, detail) => {
    const files = await issueClient();
    currentPem = await readFile(files.cert, 'utf8');
    handler = async (r) => (r.path.endsWith('/cacerts') ? honest(r) : answer(r));
    const before = await snapshot(files.dir);
    const outcome = await renewOnce(request(files), deps());
    expect(outcome.kind).toBe('failed');
    if (outcome.kind !== 'failed') return;
    expect(outcome.failure.code).toBe('answer_rejected');
    expect(`${outcome.failure.code} ${outcome.failure.detail}`).toMatch(detail);
    expect(await snapshot(files.dir)).toStrictEqual(before);
  });

  it.each([
    [403, 'certificate_disabled'],
    [403, 'certificate_expired'],
    [403, 'no_consent'],
    [403, 'line_withdrawn'],
    [422, 'key_reused'],
    [401, 'certificate_unknown'],
  ])('passes on a %d %s refusal with the server message, and writes nothing', async (status, code) => {
    handler = refuse(status, code, 'as the server says it');
    const files = await issueClient();
    const before = await snapshot(files.dir);
    const outcome = await renewOnce(request(files), deps());
    expect(outcome).toMatchObject({
      kind: 'failed',
      failure: { code, status, serverMessage: 'as the server says it' },
    });
    expect(await snapshot(files.dir)).toStrictEqual(before);
  });

  it('maps a 5xx without a code, an HTML page and control characters in the server message', async () => {
    const files = await issueClient();
    handler = async () => ({ status: 502, type: 'text/html', body: '<html>bad gateway</html>' });
    expect(await renewOnce(request(files), deps())).toMatchObject({
      failure: { code: 'server_error', status: 502 },
    });
    handler = refuse(403, 'no_consent', 'line\u001b[31m one\u202e');
    expect(await renewOnce(request(files), deps())).toMatchObject({
      failure: { serverMessage: 'line?[31m one?' },
    });
    handler = async () => ({ status: 200, type: 'text/html', body: '<html>portal</html>' });
    expect(await renewOnce(request(files), deps())).toMatchObject({ failure: { code: 'unexpected_answer' } });
  });

  it('does not trust the server with the wrong --ca (tls_untrusted), nor without one (system store)', async () => {
    handler = honest;
    const files = await issueClient();
    const before = await snapshot(files.dir);
    const other = await readFile(join(CA_DIR, 'other-ca.pem'), 'utf8');
    expect(await renewOnce(request(files, { caPem: other }), deps())).toMatchObject({
      kind: 'failed',
      failure: { code: 'tls_untrusted' },
    });
    const { caPem: _, ...withoutCa } = request(files);
    expect(await renewOnce(withoutCa, deps())).toMatchObject({ failure: { code: 'tls_untrusted' } });
    expect(await snapshot(files.dir)).toStrictEqual(before);
  });

  it('names a host the TLS certificate is not for (tls_name_mismatch)', async () => {
    handler = honest;
    const files = await issueClient();
    const url = new URL(standIn.url);
    url.hostname = '127.0.0.2'; // the server certificate names localhost and 127.0.0.1
    const outcome = await renewOnce(request(files, { url }), deps());
    expect(outcome).toMatchObject({
      failure: { code: expect.stringMatching(/tls_name_mismatch|server_unreachable/) },
    });
  });

  it('reports an unreachable server, and warns when expiry is near', async () => {
    const files = await issueClient({ now: new Date(Date.now() - 360 * DAY) });
    const url = new URL(`https://localhost:${await freePort()}`);
    const before = await snapshot(files.dir);
    const outcome = await renewOnce(request(files, { url }), deps());
    expect(outcome).toMatchObject({ kind: 'failed', failure: { code: 'server_unreachable' } });
    if (outcome.kind === 'failed')
      expect(outcome.warning).toMatch(
        /^WARNING: .*client\.pem expires on .*, in [45] days( \d+ h)?, and renewal failed/,
      );
    expect(await snapshot(files.dir)).toStrictEqual(before);
  });

  it('gives up after the timeout when the server does not answer', async () => {
    handler = () => new Promise(() => {});
    const files = await issueClient();
    const outcome = await renewOnce(request(files), deps({ timeoutMs: 500 }));
    expect(outcome).toMatchObject({ failure: { code: 'timeout' } });
  });

  it('within one run, re-sends the same CSR after a lost answer (5xx) and installs what comes; a refusal is not re-sent', async () => {
    const files = await issueClient();
    let calls = 0;
    handler = async (r) => (++calls === 1 ? { status: 502, type: 'text/plain', body: 'gateway' } : honest(r));
    const count = standIn.requests.length;
    const outcome = await renewOnce(request(files), deps({ retryPausesMs: [10, 10] }));
    expect(outcome.kind).toBe('renewed');
    const [first, second, ...more] = standIn.requests.slice(count);
    expect(more).toStrictEqual([]);
    expect(second!.body).toBe(first!.body);

    handler = refuse(403, 'no_consent');
    const before = standIn.requests.length;
    await renewOnce(request(files), deps({ retryPausesMs: [10, 10] }));
    expect(standIn.requests.length - before).toBe(1);
  });

  it('retries a lost answer with the same CSR (held by the daemon), a refusal with a new key', async () => {
    const files = await issueClient();
    const pending = {};
    handler = async () => ({ status: 503, type: 'text/plain', body: 'later' });
    await renewOnce(request(files), deps({ pending }));
    const first = standIn.requests.at(-1)!.body;
    await renewOnce(request(files), deps({ pending }));
    expect(standIn.requests.at(-1)!.body).toBe(first);
    handler = refuse(422, 'key_reused');
    await renewOnce(request(files), deps({ pending }));
    await renewOnce(request(files), deps({ pending }));
    expect(standIn.requests.at(-1)!.body).not.toBe(first);
  });
});

let currentPem = '';

describe('readCertsOnly', () => {
  it('reads what openssl crl2pkcs7 writes, in order', async () => {
    const other = await readFile(join(CA_DIR, 'other-ca.pem'), 'utf8');
    const ders = readCertsOnly(await certsOnly([caPem, other]));
    expect(ders.map((d) => new X509Certificate(d).subject)).toStrictEqual([
      new X509Certificate(caPem).subject,
      new X509Certificate(other).subject,
    ]);
  });
});
