import { request } from 'node:https';
import type { RenewalFailure } from '../core/renewal-messages.ts';

/** How the client speaks to the renewal listener: its base URL and the TLS material. */
export interface EstConnection {
  /** `https://host:port` (a path before /.well-known/est is kept). */
  url: URL;
  /** PEM of the certificates trusted for the server's TLS certificate; the system store when absent. */
  caPem?: string;
  /** The client certificate (PEM) and key (PEM) of mTLS; absent for cacerts. */
  certPem?: string;
  keyPem?: string;
  timeoutMs: number;
}

export interface EstAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** The largest answer read: a certificate chain is a few KiB. */
const MAX_ANSWER_BYTES = 256 * 1024;

/** Node's codes for a server certificate that does not verify against the trusted CAs. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_CA',
]);
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
]);

/** A failure the request ended in, as a value (thrown by `estRequest`). */
export class EstFailure extends Error {
  readonly failure: RenewalFailure;

  constructor(failure: RenewalFailure) {
    super(failure.code);
    this.failure = failure;
  }
}

/**
 * One HTTPS request to `path` under the base URL, over mTLS when a client certificate is
 * given. The server's certificate is verified against `caPem` only (or the system store), and
 * its name against the URL's host. Resolves with any HTTP answer; throws `EstFailure` when there
 * is none (unreachable, TLS, timeout, an oversized answer).
 */
export function estRequest(
  connection: EstConnection,
  path: string,
  options: { method: 'GET' | 'POST'; contentType?: string; body?: string },
): Promise<EstAnswer> {
  const target = new URL(connection.url.pathname.replace(/\/+$/, '') + path, connection.url);
  const where = `${target.hostname}:${target.port || 443}`;
  return new Promise((resolve, reject) => {
    const fail = (failure: RenewalFailure) => reject(new EstFailure(failure));
    const req = request(
      target,
      {
        method: options.method,
        // No pooled connection: each request presents exactly the certificate it was given.
        agent: false,
        ...(connection.caPem ? { ca: connection.caPem } : {}),
        ...(connection.certPem ? { cert: connection.certPem, key: connection.keyPem } : {}),
        headers: {
          accept: 'application/pkcs7-mime, application/json',
          ...(options.body !== undefined
            ? {
                'content-type': options.contentType ?? 'application/octet-stream',
                'content-transfer-encoding': 'base64',
                'content-length': Buffer.byteLength(options.body),
              }
            : {}),
        },
        timeout: connection.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            req.destroy();
            fail({
              code: 'unexpected_answer',
              status: res.statusCode,
              detail: `an answer over ${MAX_ANSWER_BYTES / 1024} KiB`,
            });
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (error) => fail(networkFailure(error, where)));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      fail({
        code: 'timeout',
        detail: `no answer from ${where} within ${Math.round(connection.timeoutMs / 1000)} s`,
      });
    });
    req.on('error', (error) => fail(networkFailure(error, where)));
    req.end(options.body);
  });
}

/** What a socket or TLS error means to the operator. */
export function networkFailure(error: Error, where: string): RenewalFailure {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (UNTRUSTED.has(code)) return { code: 'tls_untrusted', detail: `${code} from ${where}` };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { code: 'tls_name_mismatch', detail: where };
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO' || code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
    return { code: 'tls_handshake_failed', detail: `${code} from ${where}` };
  }
  if (UNREACHABLE.has(code)) return { code: 'server_unreachable', detail: `${code} ${where}` };
  if (code === 'ETIMEDOUT') return { code: 'timeout', detail: `${code} ${where}` };
  // ECONNRESET and the like: the connection broke, perhaps after the request arrived.
  return { code: 'server_unreachable', detail: `${code || 'connection failed'} ${where}` };
}
