import type { CertificateAuthority } from '../ca/certificate-authority.ts';
import type { CrlRefresher } from '../core/crl-refresher.ts';
import type { Notifier } from '../core/notifier.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';

/** What every use case needs from the world, passed in (never imported as a singleton). */
export interface ServiceContext {
  db: Database;
  ca: CertificateAuthority;
  log: Logger;
  now: () => Date;
  randomBytes: (size: number) => Buffer;
  minRsaBits: number;
  /** PUBLIC_URL/crl, written into every certificate. */
  crlDistributionPoint: string | undefined;
  /** Tells the people concerned about committed changes (e-mail); absent means nobody is told. */
  notifier?: Notifier | undefined;
  /** Has the CRL signed again after an enable/disable; absent means it waits for the daily one. */
  crlRefresher?: CrlRefresher | undefined;
}
