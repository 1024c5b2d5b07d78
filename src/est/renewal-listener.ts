import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { localServerCredentials } from '../gateway/server-certificate.ts';
import type { Logger } from '../log.ts';
import type { ServiceContext } from '../services/context.ts';
import { startEstServer, type RunningEstServer } from './est-server.ts';

/**
 * The renewal listener as configured (RENEW_PORT on HOST), or undefined when RENEW_PORT is
 * unset. Its TLS server certificate is RENEW_TLS_CERT_PATH/RENEW_TLS_KEY_PATH (one for the host
 * clients connect to, from any CA they trust); without them, the gateway's self-signed
 * localhost certificate under DATA_DIR/renew, for trying it on one machine only.
 */
export async function startRenewalListener(
  config: Readonly<Config>,
  services: ServiceContext,
  log: Logger,
): Promise<RunningEstServer | undefined> {
  if (!config.renew) return undefined;
  let cert: string;
  let key: string;
  if (config.renew.tls) {
    [cert, key] = await Promise.all([
      readFile(config.renew.tls.certPath, 'utf8'),
      readFile(config.renew.tls.keyPath, 'utf8'),
    ]);
  } else {
    const local = await localServerCredentials(join(config.dataDir, 'renew'));
    log.warn(
      { cert: local.certPath, created: local.created },
      'RENEW_TLS_CERT_PATH/RENEW_TLS_KEY_PATH are not set: the renewal listener uses a self-signed ' +
        `certificate for localhost; clients trust it with --ca ${local.certPath}`,
    );
    [cert, key] = [local.certPem, local.keyPem];
  }
  return startEstServer({
    port: config.renew.port,
    host: config.host,
    cert,
    key,
    services,
    log: log.child({ component: 'est' }),
  });
}
