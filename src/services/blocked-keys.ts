import {
  allBlockedKeys,
  deleteBlockedKey,
  enabledCertificatesWithKey,
  insertBlockedKey,
  type BlockedKeyRow,
} from '../db/repositories/blocked-keys.ts';
import { describeActor, type Actor } from './actor.ts';
import type { ServiceContext } from './context.ts';
import { failure, success, type Outcome } from './outcome.ts';

export type { BlockedKeyRow };

const SHA256_HEX = /^[0-9a-f]{64}$/;
const MAX_REASON = 1000;

/** A SHA-256 in hex as people paste it (upper case, colons, spaces), or undefined. */
export function normaliseSpkiSha256(text: string): string | undefined {
  const hex = text.replace(/[\s:]/g, '').toLowerCase();
  return SHA256_HEX.test(hex) ? hex : undefined;
}

function checkedReason(
  reason: string,
): string | { ok: false; failures: { code: string; message: string }[] } {
  const why = reason.trim();
  if (why === '') return failure('reason_required', 'say why: --reason "<why this key must not be used>"');
  // eslint-disable-next-line no-control-regex
  if (why.length > MAX_REASON || /[\u0000-\u001f\u007f]/.test(why)) {
    return failure('invalid_input', `the reason is one line of at most ${MAX_REASON} characters`);
  }
  return why;
}

export interface BlockResult {
  key: BlockedKeyRow;
  /** False when the key was blocked before (nothing changed). */
  blockedNow: boolean;
  /** Still enabled certificates with the key: blocking refuses new CSRs, it disables nothing. */
  enabledCertificates: { serial: string; commonName: string }[];
}

/**
 * Blocks a public key (Nedap support): a CSR with it is refused with `key_blocked`, at upload
 * and at approval. Recorded in the audit log. Blocking again changes nothing.
 */
export async function blockKey(
  ctx: Pick<ServiceContext, 'db'>,
  actor: Actor,
  input: { publicKeySha256: string; reason: string },
): Promise<Outcome<BlockResult>> {
  const sha = normaliseSpkiSha256(input.publicKeySha256);
  if (!sha) return failure('invalid_input', 'the SPKI SHA-256 is 64 hexadecimal digits');
  const reason = checkedReason(input.reason);
  if (typeof reason !== 'string') return reason;
  const by = describeActor(actor);
  const { row, inserted } = await insertBlockedKey(
    ctx.db,
    { publicKeySha256: sha, reason, blockedBy: by },
    { actor: by, action: 'key.blocked', subjectType: 'key', subjectId: sha, reason },
  );
  return success({
    key: row,
    blockedNow: inserted,
    enabledCertificates: await enabledCertificatesWithKey(ctx.db, sha),
  });
}

/** Takes a key off the blocked list again, with the reason in the audit log. */
export async function unblockKey(
  ctx: Pick<ServiceContext, 'db'>,
  actor: Actor,
  input: { publicKeySha256: string; reason: string },
): Promise<Outcome<BlockedKeyRow>> {
  const sha = normaliseSpkiSha256(input.publicKeySha256);
  if (!sha) return failure('invalid_input', 'the SPKI SHA-256 is 64 hexadecimal digits');
  const reason = checkedReason(input.reason);
  if (typeof reason !== 'string') return reason;
  const removed = await deleteBlockedKey(ctx.db, sha, {
    actor: describeActor(actor),
    action: 'key.unblocked',
    subjectType: 'key',
    subjectId: sha,
    reason,
  });
  return removed ? success(removed) : failure('not_found', `the key ${sha} is not blocked`);
}

/** Every blocked key, oldest first. */
export async function listBlockedKeys(ctx: Pick<ServiceContext, 'db'>): Promise<BlockedKeyRow[]> {
  return allBlockedKeys(ctx.db);
}
