import { crlPem } from '../ca/crl.ts';
import type { Database } from '../db/database.ts';
import { newestCrl, newestCrlHead } from '../db/repositories/crls.ts';

/** Where a gateway gets the CA's current CRL from. */
export interface CrlSource {
  /** For log lines: where it looks. */
  description: string;
  /**
   * The current CRL as PEM, or `unchanged` when it is still the one numbered `known`.
   * Throws when the source does not answer.
   */
  fetch(known: number | undefined): Promise<{ pem: string } | 'unchanged'>;
}

/** The newest CRL in the service's database (cheap to poll: one indexed row, no body unless new). */
export function databaseCrlSource(db: Database, description = 'the database'): CrlSource {
  return {
    description,
    async fetch(known) {
      const head = await newestCrlHead(db);
      if (!head) throw new Error('there is no CRL in the database yet (is the service running?)');
      if (head.crlNumber === known) return 'unchanged';
      const row = await newestCrl(db);
      return { pem: crlPem(Buffer.from(row!.derBase64, 'base64')) };
    },
  };
}

/**
 * PUBLIC_URL/crl.pem (or /crl) over HTTP(S). It is asked again with the last ETag, so an
 * unchanged CRL costs a 304; a gateway without a CRL always asks for the whole one.
 */
export function urlCrlSource(url: string, timeoutMs = 10_000): CrlSource {
  let etag: string | undefined;
  return {
    description: url,
    async fetch(known) {
      const headers: Record<string, string> = {};
      if (etag && known !== undefined) headers['if-none-match'] = etag;
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
      if (response.status === 304) return 'unchanged';
      if (!response.ok) throw new Error(`${url} answered ${response.status}`);
      const body = Buffer.from(await response.arrayBuffer());
      const text = body.toString('latin1');
      etag = response.headers.get('etag') ?? undefined;
      return { pem: text.includes('-----BEGIN X509 CRL-----') ? text : crlPem(body) };
    },
  };
}
