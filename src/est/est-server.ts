import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { MAX_BODY_BYTES } from '../api/body-limit.ts';
import { findPemBlocks } from '../ca/pem.ts';
import { TLS_PROFILE } from '../gateway/tls-profile.ts';
import type { Logger } from '../log.ts';
import type { ServiceContext } from '../services/context.ts';
import type { Failure } from '../services/outcome.ts';
import { renewCertificate } from '../services/renew.ts';
import { base64Lines, certsOnly } from './pkcs7.ts';

export const EST_PREFIX = '/.well-known/est';
const CACERTS = `${EST_PREFIX}/cacerts`;
const SIMPLE_REENROLL = `${EST_PREFIX}/simplereenroll`;

export interface EstServerOptions {
  port: number;
  host: string;
  /** The listener's own TLS server certificate (and chain) and key, PEM. */
  cert: string | Buffer;
  key: string | Buffer;
  services: ServiceContext;
  log: Logger;
  /** How long close() lets requests in progress finish before it ends their connections. */
  closeGraceMs?: number;
}

export interface RunningEstServer {
  url: string;
  port: number;
  /** Stops accepting, lets requests in progress finish (a renewal being signed), then ends. */
  close(): Promise<void>;
}

/**
 * The EST renewal listener (RFC 7030): HTTPS with the gateway's TLS profile, terminating TLS
 * itself because the client's certificate is what authenticates a renewal. The handshake asks
 * for a client certificate and lets every client in (rejectUnauthorized: false) so that a
 * refused one hears why, as JSON with a code (an expired certificate would otherwise just see
 * the connection end); each request is judged on OpenSSL's verdict, our own signature check
 * and the database (enabled, expiry, line, consent), which is never behind as a CRL can be.
 */
export async function startEstServer(options: EstServerOptions): Promise<RunningEstServer> {
  const { services, log } = options;
  const caPem = services.ca.chainPem;
  const caCerts = base64Lines(
    certsOnly(
      findPemBlocks(caPem)
        .filter((block) => block.label === 'CERTIFICATE' && block.der)
        .map((block) => block.der!),
    ),
  );
  const server: Server = createServer({
    ...TLS_PROFILE,
    key: options.key,
    cert: options.cert,
    ca: caPem,
    requestCert: true,
    rejectUnauthorized: false,
    // Bounds for clients that open a connection and say nothing (a renewal is one small request).
    handshakeTimeout: 30_000,
    headersTimeout: 20_000,
    requestTimeout: 60_000,
  });
  server.on('tlsClientError', (error: Error & { code?: string }, socket) => {
    log.debug(
      { err: error.message, code: error.code, remote: socket.remoteAddress },
      'EST: a TLS handshake failed',
    );
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error, path: req.url }, 'EST: a request failed');
      if (!res.headersSent)
        sendErrors(res, 500, [
          { code: 'internal_error', message: 'the renewal failed on the server; try again later' },
        ]);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path === CACERTS) {
      if (!allowMethod(req, res, ['GET', 'HEAD'])) return;
      res.writeHead(200, {
        'content-type': 'application/pkcs7-mime',
        'content-transfer-encoding': 'base64',
        'cache-control': 'no-cache',
        'content-length': Buffer.byteLength(caCerts),
      });
      res.end(req.method === 'HEAD' ? undefined : caCerts);
      return;
    }
    if (path !== SIMPLE_REENROLL) {
      sendErrors(res, 404, [
        {
          code: 'not_found',
          message: `this EST server has ${CACERTS} (GET) and ${SIMPLE_REENROLL} (POST, with the current client certificate) only`,
        },
      ]);
      return;
    }
    if (!allowMethod(req, res, ['POST'])) return;
    const refusal = refuseBody(req);
    if (refusal) return sendErrors(res, refusal.status, [refusal], true);
    const body = await readBody(req);
    if ('status' in body) return sendErrors(res, body.status, [body], true);

    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate(false) as { raw?: Buffer };
    const result = await renewCertificate(
      services,
      {
        raw: peer.raw,
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
      },
      body.bytes,
    );
    if (!result.ok) {
      log.info(
        {
          serial: result.serial,
          status: result.status,
          codes: result.failures.map((f) => f.code),
          remote: socket.remoteAddress,
        },
        'EST: renewal refused',
      );
      return sendErrors(res, result.status, result.failures);
    }
    log.info({ serial: result.renewedSerial, issued: result.serial }, 'EST: certificate renewed');
    const answer = base64Lines(certsOnly([Buffer.from(new X509Certificate(result.pem).raw)]));
    res.writeHead(200, {
      'content-type': 'application/pkcs7-mime; smime-type=certs-only',
      'content-transfer-encoding': 'base64',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(answer),
    });
    res.end(answer);
  }

  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `https://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  log.info({ url }, 'the EST renewal listener is listening');

  return {
    url,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), options.closeGraceMs ?? 10_000);
      await closed;
      clearTimeout(grace);
    },
  };
}

/** Answers 405 with Allow unless the method is one of `methods`. */
function allowMethod(req: IncomingMessage, res: ServerResponse, methods: string[]): boolean {
  if (methods.includes(req.method ?? '')) return true;
  res.setHeader('allow', methods.join(', '));
  sendErrors(res, 405, [{ code: 'method_not_allowed', message: `use ${methods.join(' or ')} here` }]);
  return false;
}

type BodyRefusal = Failure & { status: number };

/** What the headers alone say is wrong with a re-enrolment body (RFC 7030 §4.2.1). */
function refuseBody(req: IncomingMessage): BodyRefusal | undefined {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/pkcs10') {
    return {
      status: 415,
      code: 'unsupported_media_type',
      message: 'send the CSR as Content-Type: application/pkcs10, the body its DER in base64 (RFC 7030)',
    };
  }
  const transfer = req.headers['content-transfer-encoding'];
  if (transfer !== undefined && String(transfer).trim().toLowerCase() !== 'base64') {
    return {
      status: 415,
      code: 'unsupported_transfer_encoding',
      message: 'the body is base64 (Content-Transfer-Encoding: base64, or no such header)',
    };
  }
  const encoding = String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  if (encoding !== 'identity') {
    return {
      status: 415,
      code: 'unsupported_encoding',
      message: 'send the body without Content-Encoding: a CSR is small',
    };
  }
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > MAX_BODY_BYTES) return tooLarge();
  return undefined;
}

const tooLarge = (): BodyRefusal => ({
  status: 413,
  code: 'body_too_large',
  message: `request bodies are at most ${MAX_BODY_BYTES / 1024} KiB (a CSR in base64 is a few KiB)`,
});

/** The body, at most MAX_BODY_BYTES; the bytes go to the CSR reader and nowhere else. */
async function readBody(req: IncomingMessage): Promise<{ bytes: Buffer } | BodyRefusal> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return tooLarge();
      chunks.push(chunk);
    }
  } catch {
    return {
      status: 400,
      code: 'request_aborted',
      message: 'the request was aborted before its body was read',
    };
  }
  if (size === 0) {
    return {
      status: 400,
      code: 'empty_body',
      message: 'the body is empty: send the CSR (its DER in base64)',
    };
  }
  return { bytes: Buffer.concat(chunks) };
}

/** `{"errors":[{code, message}]}`; `close` ends the connection (a body may be left unread). */
function sendErrors(res: ServerResponse, status: number, failures: Failure[], close = false): void {
  const body = JSON.stringify({ errors: failures.map(({ code, message }) => ({ code, message })) });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}
