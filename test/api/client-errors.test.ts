import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../helpers/raw-http.ts';
import { startWebService, type WebService } from '../helpers/web.ts';

// Requests that Node's HTTP parser refuses before any route sees them. Node 24 answered them
// with a 400 and closed at once, so a client still sending got a reset instead of the answer.
let web: WebService;

beforeAll(async () => {
  web = await startWebService();
}, 60_000);
afterAll(async () => web?.close());

/** Writes `bytes` on a fresh connection and returns everything the server sends before closing. */
function exchange(bytes: Buffer): Promise<string> {
  const { hostname, port } = new URL(web.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.end(bytes);
  });
}

describe('requests that are not HTTP/1.1', () => {
  it('a GET with 70 KB of body and no length is answered 400 malformed_request, not reset', async () => {
    // Node's client sends a GET's body as it is, without Content-Length or chunking.
    const reply = await rawRequest(
      web.url,
      'GET',
      '/healthz',
      { 'content-type': 'application/json' },
      'F'.repeat(70 * 1024),
    );
    expect(reply.status).toBe(400);
    expect(reply.codes).toEqual(['malformed_request']);
  });

  it('a HEAD with a body and no length: a 400 without a body (a HEAD answer has none)', async () => {
    const reply = await rawRequest(web.url, 'HEAD', '/healthz', {}, '-----BEGIN CERTIFICATE REQUEST-----\n');
    expect(reply.status).toBe(400);
    expect(reply.text).toBe('');
  });

  it('broken request lines and headers: 400 in JSON, over 16 KiB of headers 431', async () => {
    const broken = await exchange(Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'));
    expect(broken).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(broken).toContain('{"errors":[{"code":"malformed_request"');
    const huge = await exchange(
      Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    );
    expect(huge).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(huge).toContain('"code":"headers_too_large"');
  });

  it('the service answers normally afterwards', async () => {
    expect((await rawRequest(web.url, 'GET', '/healthz')).status).toBe(200);
  });
});
