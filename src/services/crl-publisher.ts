import type { CertificateAuthority } from '../ca/certificate-authority.ts';
import { buildCrl } from '../ca/crl.ts';
import { BACKDATE_SECONDS } from '../ca/issue-certificate.ts';
import type { Database } from '../db/database.ts';
import {
  disabledCertificates,
  insertCrl,
  lockCrlNumbers,
  newestCrl,
  nextCrlNumber,
  type CrlRow,
} from '../db/repositories/crls.ts';
import type { Logger } from '../log.ts';

/** A signed CRL as stored: what /crl and /crl.pem serve. */
export interface StoredCrl {
  number: number;
  der: Buffer;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: number;
}

export interface CrlPublisher {
  /** Signs a new CRL from the certificates as they are now, stores it and returns it. */
  publish(): Promise<StoredCrl>;
  /**
   * The CRL to serve: the newest stored one, or, when there is none or it is about to expire, a
   * new one signed on the spot. Never an expired one: throws when there is nothing valid to serve.
   */
  current(): Promise<StoredCrl>;
}

export interface CrlPublisherDeps {
  db: Database;
  ca: Pick<CertificateAuthority, 'subjectDer' | 'keyIdentifier' | 'privateKey'>;
  log: Logger;
  now: () => Date;
  /** CRL_VALIDITY_HOURS: from thisUpdate to nextUpdate. */
  validityHours: number;
  /** Called for every failure to sign or store a CRL (the metric). */
  onFailure?: () => void;
}

/**
 * RFC 5280 §3.3: an entry stays until it has appeared on a regularly scheduled CRL issued after
 * the certificate expired. CRLs are made at least daily, so a week after expiry is plenty; then
 * the list stops growing with certificates that no gateway would accept anyway.
 */
const EXPIRED_KEPT_MS = 7 * 24 * 3600_000;

/**
 * Signs and stores CRLs (one transaction: lock, read the disabled certificates, take the next
 * number, sign, insert), so that every process serves the same list and numbers only grow.
 */
export function createCrlPublisher(deps: CrlPublisherDeps): CrlPublisher {
  const validityMs = deps.validityHours * 3600_000;
  // Signed again on the spot when less than a quarter of its life is left: the scheduled refresh
  // replaces it at half its life, so this happens only when no worker has been running for a while.
  const staleWithinMs = validityMs / 4;

  const sign = (onlyIfStale: boolean) =>
    deps.db.transaction(async (tx) => {
      await lockCrlNumbers(tx);
      const now = deps.now();
      if (onlyIfStale) {
        // Another process may have signed one while this one waited for the lock.
        const newest = await newestCrl(tx);
        if (newest && !isStale(newest, now)) return stored(newest);
      }
      const entries = await disabledCertificates(tx, new Date(now.getTime() - EXPIRED_KEPT_MS));
      const number = await nextCrlNumber(tx);
      // Backdated like the certificates: a gateway whose clock is a little behind ours would
      // otherwise find the new CRL "not yet valid" and refuse every client until it caught up.
      const thisUpdate = new Date(now.getTime() - BACKDATE_SECONDS * 1000);
      const nextUpdate = new Date(now.getTime() + validityMs);
      const der = await buildCrl(entries, deps.ca, { number, thisUpdate, nextUpdate });
      const row = await insertCrl(tx, {
        crlNumber: number,
        derBase64: der.toString('base64'),
        thisUpdate: wholeSeconds(thisUpdate),
        nextUpdate: wholeSeconds(nextUpdate),
        entries: entries.length,
      });
      deps.log.info({ crlNumber: number, entries: entries.length, nextUpdate }, 'signed a new CRL');
      return stored(row);
    });

  const isStale = (row: CrlRow, now: Date) => row.nextUpdate.getTime() - now.getTime() < staleWithinMs;

  const failed = (error: unknown, what: string) => {
    deps.onFailure?.();
    deps.log.error(
      { err: error },
      `${what}: gateways keep the previous CRL until its nextUpdate and then refuse every certificate; ` +
        'check the database and the CA key, then see ons_certs_crl_failures_total and ons_certs_crl_next_update_seconds',
    );
  };

  return {
    async publish() {
      try {
        return await sign(false);
      } catch (error) {
        failed(error, 'signing a new CRL failed');
        throw error;
      }
    },
    async current() {
      const newest = await newestCrl(deps.db);
      const now = deps.now();
      if (newest && !isStale(newest, now)) return stored(newest);
      try {
        return await sign(true);
      } catch (error) {
        failed(
          error,
          newest
            ? 'the CRL is about to expire and signing a new one failed'
            : 'no CRL yet and signing one failed',
        );
        // Still valid for a while: better the newest list than none.
        if (newest && newest.nextUpdate.getTime() > now.getTime()) return stored(newest);
        throw error;
      }
    },
  };
}

function stored(row: CrlRow): StoredCrl {
  return {
    number: row.crlNumber,
    der: Buffer.from(row.derBase64, 'base64'),
    thisUpdate: row.thisUpdate,
    nextUpdate: row.nextUpdate,
    entries: row.entries,
  };
}

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}
