import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.ts';
import { humanDuration } from '../core/duration.ts';
import type { Logger } from '../log.ts';
import {
  CaError,
  createCaMaterial,
  developmentCaFiles,
  loadCertificateAuthority,
  writeCaFiles,
  type CaFiles,
  type CertificateAuthority,
} from './certificate-authority.ts';

export const DEVELOPMENT_CA_NAME = 'ons-certs development CA';

/** The CA files the configuration points at: CA_CERT_PATH/CA_KEY_PATH, or the development CA. */
export function caFilesFor(config: Pick<Config, 'ca' | 'dataDir'>): CaFiles & { development: boolean } {
  if (config.ca) {
    return { ...config.ca, passphrase: config.ca.passphrase, development: false };
  }
  return { ...developmentCaFiles(config.dataDir), development: true };
}

/**
 * Opens the configured CA, or the development CA under DATA_DIR/ca, creating that one on first
 * use. Several processes may start at once on one DATA_DIR: the loser of the creation race
 * waits for the winner's files instead of making a second CA.
 */
export async function openCertificateAuthority(
  config: Pick<Config, 'ca' | 'dataDir'>,
  log: Logger,
): Promise<CertificateAuthority> {
  const files = caFilesFor(config);
  if (!files.development) return loadCertificateAuthority(files);

  if (!existsSync(files.keyPath) && !existsSync(files.certPath)) {
    log.warn(
      { dir: files.certPath },
      'no CA configured: generating the development CA (RSA 4096): this takes a few seconds …',
    );
    const started = Date.now();
    try {
      await writeCaFiles(
        files,
        await createCaMaterial({ commonName: DEVELOPMENT_CA_NAME, randomBytes }),
        false,
      );
      const ms = Date.now() - started;
      log.info({ ms }, `development CA generated (${humanDuration(ms)})`);
    } catch (error) {
      if (!(error instanceof CaError)) throw error;
      await waitForFiles(files);
    }
  }
  log.warn(
    { certPath: files.certPath },
    'USING THE DEVELOPMENT CA: certificates it signs are for development only; ' +
      'set CA_CERT_PATH and CA_KEY_PATH (or run `ons-certs ca init` with them set) for a real deployment',
  );
  return loadCertificateAuthority(files);
}

async function waitForFiles(files: CaFiles): Promise<void> {
  for (let i = 0; i < 100 && !(existsSync(files.certPath) && existsSync(files.keyPath)); i++)
    await sleep(100);
}
