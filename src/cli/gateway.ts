import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { caFilesFor } from '../ca/open-ca.ts';
import type { Config } from '../config.ts';
import { openDatabase, type DatabaseHandle } from '../db/database.ts';
import { databaseCrlSource, urlCrlSource, type CrlSource } from '../gateway/crl-source.ts';
import { startGateway } from '../gateway/gateway.ts';
import { localServerCredentials } from '../gateway/server-certificate.ts';
import { createLogger, logDestination } from '../log.ts';
import { UsageError, type Output } from './output.ts';

/**
 * `ons-certs gateway --port P [--upstream URL]`: the reference mTLS gateway, until SIGINT/SIGTERM.
 * The CA certificate comes from the configuration (as the service's); the CRL from the database
 * when DATABASE_URL is set, else from PUBLIC_URL/crl.pem (the embedded PGlite is one process's).
 */
export async function gateway(args: string[], config: Readonly<Config>, output: Output): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        upstream: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        ca: { type: 'string' },
        'crl-url': { type: 'string' },
        'crl-refresh-seconds': { type: 'string' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values: Record<string, string | undefined> = parsed.values;
  const text = (name: string) => values[name];
  const port = Number(text('port'));
  if (!text('port') || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError('gateway needs --port P (0-65535)');
  }
  const refreshSeconds = Number(text('crl-refresh-seconds') ?? '5');
  if (!(refreshSeconds >= 0.1 && refreshSeconds <= 3600)) {
    throw new UsageError('--crl-refresh-seconds must be a number from 0.1 to 3600');
  }
  const upstream = parseUrl(text('upstream'), '--upstream');
  const crlUrl = parseUrl(text('crl-url'), '--crl-url');
  if (Boolean(text('cert')) !== Boolean(text('key'))) throw new UsageError('--cert and --key go together');

  const log = createLogger(config.logLevel, logDestination(config.logFormat));
  const caPath = text('ca') ?? caFilesFor(config).certPath;
  const caPem = await readFile(caPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(
      `cannot read the CA certificate ${caPath} (${error.code ?? error.message}): set CA_CERT_PATH, pass --ca, ` +
        'or start the service once so that it creates the development CA',
    );
  });
  let credentials: { certPem: string; keyPem: string };
  const certPath = text('cert');
  const keyPath = text('key');
  if (certPath && keyPath) {
    credentials = { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
  } else {
    const local = await localServerCredentials(join(config.dataDir, 'gateway'));
    log.warn(
      { cert: local.certPath, created: local.created },
      'no --cert/--key: using a self-signed server certificate for localhost; clients trust it with ' +
        `curl --cacert ${local.certPath}`,
    );
    credentials = local;
  }

  let database: DatabaseHandle | undefined;
  let source: CrlSource;
  if (crlUrl) {
    source = urlCrlSource(crlUrl.href);
  } else if (config.databaseUrl) {
    database = await openDatabase({ url: config.databaseUrl });
    source = databaseCrlSource(database.db);
  } else {
    source = urlCrlSource(`${config.publicUrl}/crl.pem`);
  }

  try {
    const running = await startGateway({
      port,
      host: text('host') ?? '127.0.0.1',
      cert: credentials.certPem,
      key: credentials.keyPem,
      caPem,
      crlSource: source,
      refreshMs: refreshSeconds * 1000,
      upstream,
      log,
    });
    output.err(`ons-certs gateway listening on ${running.url} (CRL from ${source.description})`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    log.info({ signal }, 'shutting down');
    await running.close();
  } finally {
    await database?.close();
  }
  return 0;
}

function parseUrl(value: string | undefined, option: string): URL | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  throw new UsageError(`${option} must be an http(s) URL (got "${value}")`);
}
