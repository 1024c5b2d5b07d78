import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createHttpApp } from './api/server.ts';
import { openCertificateAuthority } from './ca/open-ca.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';

export interface RunningService {
  url: string;
  close(): Promise<void>;
}

/** The composition root: configuration in, a listening service out. */
export async function startService(config: Readonly<Config>, log: Logger): Promise<RunningService> {
  const ca = await openCertificateAuthority(config, log);
  const app = createHttpApp({ ca, log });
  const server: Server = app.listen(config.port, config.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info(
    { url, publicUrl: config.publicUrl, ca: ca.certificate.subject.replace(/\n/g, ', ') },
    'ons-certs is listening',
  );
  return {
    url,
    async close() {
      server.closeIdleConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
