import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, SecureContextOptions, TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { readVerifiedCrl, type CrlFacts } from '../ca/crl.ts';
import type { Logger } from '../log.ts';
import type { CrlSource } from './crl-source.ts';
import { proxyRequest } from './proxy.ts';
import { TLS_PROFILE } from './tls-profile.ts';

export interface GatewayOptions {
  port: number;
  host?: string;
  /** The gateway's own TLS server certificate and key (PEM). */
  cert: string | Buffer;
  key: string | Buffer;
  /** Our CA's certificate (PEM): the only issuer of client certificates that is let in. */
  caPem: string;
  crlSource: CrlSource;
  /** How often the CRL source is asked whether there is a new CRL. */
  refreshMs: number;
  /** Where requests other than GET /ping go; without it they get 404. */
  upstream?: URL | undefined;
  log: Logger;
  now?: () => Date;
}

export interface RunningGateway {
  url: string;
  port: number;
  /** The number of the CRL it checks against. */
  crlNumber(): number | undefined;
  /** Asks the CRL source now (as the timer does); resolves once a new CRL is in use. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The reference mTLS gateway: an HTTPS server with the Ons API's TLS profile that lets in only
 * clients with a certificate from our CA that is not on the CA's current CRL. OpenSSL checks the
 * chain, the validity and the CRL during the handshake; the gateway polls its CRL source and
 * swaps the server's secure context when a newer CRL (higher cRLNumber, signed by the CA) comes.
 * It does not start listening before it has a CRL: without one, it would let in everyone.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { log } = options;
  const now = options.now ?? (() => new Date());
  let current: (CrlFacts & { pem: string }) | undefined;
  let revoked = new Set<string>();
  let lastProblem = '';
  let expiredWarned: number | undefined;
  const sockets = new Map<TLSSocket, string>();

  const context = (crlPem: string): SecureContextOptions => ({
    ...TLS_PROFILE,
    key: options.key,
    cert: options.cert,
    ca: options.caPem,
    crl: crlPem,
  });

  const problem = (message: string, error?: unknown) => {
    if (message === lastProblem) return;
    lastProblem = message;
    log.warn({ err: error, source: options.crlSource.description }, message);
  };

  /** One look at the source; true when a newer CRL was taken into use. */
  const poll = async (server: Server | undefined): Promise<boolean> => {
    let fetched;
    try {
      fetched = await options.crlSource.fetch(current?.number);
    } catch (error) {
      problem(`cannot get the CRL: ${(error as Error).message}; keeping the one in use`, error);
      return false;
    }
    if (fetched === 'unchanged') {
      lastProblem = '';
      warnIfExpired();
      return false;
    }
    let facts: CrlFacts;
    try {
      facts = await readVerifiedCrl(fetched.pem, options.caPem);
    } catch (error) {
      problem(
        `the CRL from ${options.crlSource.description} is not usable: ${(error as Error).message}`,
        error,
      );
      return false;
    }
    lastProblem = '';
    if (facts.number === undefined) {
      problem('the CRL has no cRLNumber; ignoring it');
      return false;
    }
    // Never back to an older list (a stale cache, a replica behind).
    if (current?.number !== undefined && facts.number <= current.number) {
      if (facts.number < current.number) {
        problem(
          `the CRL from there is number ${facts.number}, older than ${current.number} in use: keeping that`,
        );
      }
      warnIfExpired();
      return false;
    }
    server?.setSecureContext(context(fetched.pem));
    current = { ...facts, pem: fetched.pem };
    revoked = new Set(facts.serials);
    log.info(
      { crlNumber: facts.number, revoked: facts.serials.length, nextUpdate: facts.nextUpdate },
      'using a new CRL',
    );
    // Connections already open (keep-alive) of certificates now on the list end here.
    for (const [socket, serial] of sockets) if (revoked.has(serial)) socket.destroy();
    warnIfExpired();
    return true;
  };

  const warnIfExpired = () => {
    if (!current?.nextUpdate || current.nextUpdate.getTime() > now().getTime()) return;
    if (expiredWarned === current.number) return;
    expiredWarned = current.number;
    log.error(
      { crlNumber: current.number, nextUpdate: current.nextUpdate, source: options.crlSource.description },
      'the CRL has expired and no newer one came: every client certificate is refused until one does ' +
        '(is the ons-certs service running, with its workers?)',
    );
  };

  // First a CRL, then the port.
  for (let attempt = 0; !current; attempt++) {
    if (!(await poll(undefined))) {
      if (attempt === 0) log.warn({ source: options.crlSource.description }, 'waiting for the first CRL');
      await sleep(Math.min(options.refreshMs, 1000));
    }
  }

  const server = createServer({
    ...context(current.pem),
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const serial = normaliseSerial(socket.getPeerCertificate().serialNumber ?? '');
    sockets.set(socket, serial);
    socket.once('close', () => sockets.delete(socket));
  });
  // Node closes a refused handshake without a TLS alert (clients see the connection end): the
  // reason is only here, e.g. CERT_REVOKED, CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_LEAF_SIGNATURE.
  // OpenSSL's own refusals (no certificate, TLS 1.1, no shared suite) carry an error code.
  server.on('tlsClientError', (error: Error & { code?: string }, socket) => {
    const reason = (socket as TLSSocket & { authorizationError?: string }).authorizationError ?? error.code;
    if (reason && reason !== 'ECONNRESET') {
      log.info({ reason, remote: socket.remoteAddress }, `refused a client: ${reason}`);
    } else {
      log.debug({ err: error.message, remote: socket.remoteAddress }, 'a client left during the handshake');
    }
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TLSSocket;
    const peer: PeerCertificate = socket.getPeerCertificate();
    const serial = normaliseSerial(peer.serialNumber ?? '');
    // The handshake checked it; this catches connections opened before the CRL changed.
    if (!socket.authorized || !serial || revoked.has(serial)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end('client certificate refused\n');
      return;
    }
    const commonName = String(peer.subject?.CN ?? '');
    if (req.url === '/ping' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`${commonName}\n`);
      return;
    }
    if (!options.upstream) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found (this gateway has no --upstream)\n');
      return;
    }
    const fingerprintSha256 = (peer.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
    // As the service writes serials: lower-case hex of the whole bytes.
    const shown = (peer.serialNumber ?? '').toLowerCase();
    proxyRequest(options.upstream, req, res, { commonName, serial: shown, fingerprintSha256 }, (error) =>
      log.warn({ err: error, upstream: options.upstream?.href }, 'the upstream does not answer'),
    );
  });

  server.listen(options.port, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info(
    {
      url,
      crlNumber: current.number,
      source: options.crlSource.description,
      upstream: options.upstream?.href,
    },
    'the mTLS gateway is listening',
  );

  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let polling: Promise<boolean> | undefined;
  const pollOnce = () => (polling ??= poll(server).finally(() => (polling = undefined)));
  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => void pollOnce().finally(schedule), options.refreshMs);
  };
  schedule();

  return {
    url,
    port,
    crlNumber: () => current?.number,
    refresh: async () => {
      await pollOnce();
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await polling;
      for (const socket of sockets.keys()) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Serials compare as numbers: lower-case hex without leading zeros. */
export function normaliseSerial(hex: string): string {
  return hex
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '')
    .replace(/^0+(?=.)/, '');
}
