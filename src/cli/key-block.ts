import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readPublicKeyFile } from '../ca/public-key-file.ts';
import type { Config } from '../config.ts';
import { blockKey, listBlockedKeys, normaliseSpkiSha256, unblockKey } from '../services/blocked-keys.ts';
import { withDatabase } from './database-commands.ts';
import { UsageError, type Output } from './output.ts';

/** A file larger than this is no CSR, certificate or public key. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

/**
 * `ons-certs key block <file|--spki-sha256 HEX> --reason TEXT`: CSRs with that public key are
 * refused from now on (`key_blocked`), at upload and at approval. The file is a CSR, a
 * certificate or a public key, PEM or DER; a private key is refused unread.
 */
export async function keyBlock(args: string[], config: Readonly<Config>, output: Output): Promise<number> {
  const target = await keyOf(args, 'block', output);
  if (typeof target === 'number') return target;
  const outcome = await withDatabase(config, { name: 'key block' }, (ctx) =>
    blockKey(ctx, { kind: 'admin' }, { publicKeySha256: target.sha, reason: target.reason }),
  );
  if (!outcome.ok) return failed(outcome.failures, output);
  const { key, blockedNow, enabledCertificates } = outcome.value;
  output.out(
    blockedNow
      ? `blocked key ${key.publicKeySha256}${target.from}: CSRs with it are refused (key_blocked)`
      : `key ${key.publicKeySha256} was already blocked on ${key.blockedAt.toISOString()} by ${key.blockedBy} ` +
          `("${key.reason}"); nothing changed`,
  );
  if (enabledCertificates.length > 0) {
    output.err(
      `ons-certs: ${enabledCertificates.length} enabled certificate${enabledCertificates.length === 1 ? ' has' : 's have'} ` +
        `this key (${enabledCertificates.map((c) => `${c.serial} ${c.commonName}`).join(', ')}); blocking does not ` +
        'disable them: PATCH /api/certificates/{serial} with {"enabled": false, "reason": "..."}',
    );
  }
  return 0;
}

/** `ons-certs key unblock <file|--spki-sha256 HEX> --reason TEXT`. */
export async function keyUnblock(args: string[], config: Readonly<Config>, output: Output): Promise<number> {
  const target = await keyOf(args, 'unblock', output);
  if (typeof target === 'number') return target;
  const outcome = await withDatabase(config, { name: 'key unblock' }, (ctx) =>
    unblockKey(ctx, { kind: 'admin' }, { publicKeySha256: target.sha, reason: target.reason }),
  );
  if (!outcome.ok) return failed(outcome.failures, output);
  output.out(`unblocked key ${outcome.value.publicKeySha256}: CSRs with it are judged as any other`);
  return 0;
}

/** `ons-certs key list`: one line per blocked key, oldest first. */
export async function keyList(args: string[], config: Readonly<Config>, output: Output): Promise<number> {
  if (args.length > 0) throw new UsageError('key list takes no arguments');
  const keys = await withDatabase(config, { name: 'key list' }, (ctx) => listBlockedKeys(ctx));
  for (const k of keys) {
    output.out(`${k.publicKeySha256}  ${k.blockedAt.toISOString()}  ${k.blockedBy}  ${k.reason}`);
  }
  if (keys.length === 0) output.err('ons-certs: no key is blocked');
  return 0;
}

/** The key the arguments name and the reason; or the exit code when the file is refused. */
async function keyOf(
  args: string[],
  verb: 'block' | 'unblock',
  output: Output,
): Promise<{ sha: string; reason: string; from: string } | number> {
  const { values, positionals } = parse(args);
  const hex = values['spki-sha256'];
  if ((hex === undefined) === (positionals.length === 0) || positionals.length > 1) {
    throw new UsageError(`key ${verb} takes one file or --spki-sha256 HEX`);
  }
  if (values.reason === undefined) throw new UsageError(`key ${verb} needs --reason TEXT`);
  if (hex !== undefined) {
    const sha = normaliseSpkiSha256(hex);
    if (!sha) throw new UsageError('--spki-sha256 takes the 64 hexadecimal digits of a SHA-256');
    return { sha, reason: values.reason, from: '' };
  }
  const file = positionals[0]!;
  let bytes: Buffer;
  try {
    const { size } = await stat(file);
    if (size > MAX_KEY_FILE_BYTES) {
      output.err(`ons-certs: ${file} is ${Math.ceil(size / 1024)} KiB: no CSR, certificate or public key`);
      return 2;
    }
    bytes = await readFile(file);
  } catch (error) {
    output.err(`ons-certs: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return 2;
  }
  const reading = readPublicKeyFile(bytes);
  if (!reading.ok) {
    output.err(`ons-certs: ${reading.code}: ${file}: ${reading.message}`);
    return reading.code === 'private_key' ? 1 : 2;
  }
  const size = reading.bits ? ` ${reading.bits} bits` : '';
  return {
    sha: reading.spkiSha256,
    reason: values.reason,
    from: ` (${reading.keyType.toUpperCase()}${size}, from the ${reading.what} in ${file})`,
  };
}

function failed(failures: { code: string; message: string }[], output: Output): number {
  for (const f of failures) output.err(`ons-certs: ${f.code}: ${f.message}`);
  return 1;
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { 'spki-sha256': { type: 'string' }, reason: { type: 'string' } },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
