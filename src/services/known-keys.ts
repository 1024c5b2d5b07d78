import type { KnownKeyStatus } from '../core/csr-policy.ts';
import { knownKeyStatus } from '../db/repositories/certificates.ts';
import type { ServiceContext } from './context.ts';

/**
 * What is known of a public key (by its SHA-256), as `judgeCsr` takes it in `knownKeys`: an
 * empty map for a key never seen, else blocked, or in an earlier certificate (disabled or not).
 */
export function knownKeys(
  ctx: Pick<ServiceContext, 'db'>,
  publicKeySha256: string,
): Promise<Map<string, KnownKeyStatus>> {
  return knownKeyStatus(ctx.db, publicKeySha256);
}
