import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';

/** Who the gateway let in: passed to the upstream in `x-client-cert-*` headers. */
export interface ClientIdentity {
  commonName: string;
  serial: string;
  fingerprintSha256: string;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's own, never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Forwards a request to `upstream` (its path prefixed by the upstream's own path), with the
 * caller's identity in `x-client-cert-cn`, `-serial` and `-sha256`, and answers with what the
 * upstream says. Identity headers sent by the client are dropped: only the gateway sets them.
 */
export function proxyRequest(
  upstream: URL,
  req: IncomingMessage,
  res: ServerResponse,
  client: ClientIdentity,
  onError: (error: Error) => void,
): void {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith('x-client-cert-')) continue;
    headers[name] = value;
  }
  headers['host'] = upstream.host;
  headers['x-forwarded-for'] = [req.headers['x-forwarded-for'], req.socket.remoteAddress]
    .filter(Boolean)
    .join(', ');
  headers['x-forwarded-proto'] = 'https';
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  headers['x-client-cert-cn'] = client.commonName;
  headers['x-client-cert-serial'] = client.serial;
  headers['x-client-cert-sha256'] = client.fingerprintSha256;

  const base = upstream.pathname.replace(/\/+$/, '');
  const request = (upstream.protocol === 'https:' ? https : http).request(
    {
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port || undefined,
      method: req.method,
      path: `${base}${req.url ?? '/'}`,
      headers,
    },
    (answer) => {
      const back: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) back[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, back);
      answer.pipe(res);
    },
  );
  request.on('error', (error) => {
    onError(error);
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('the upstream does not answer\n');
    } else {
      res.destroy(error);
    }
  });
  req.pipe(request);
}
