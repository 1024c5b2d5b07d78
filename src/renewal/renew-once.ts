import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { toPem } from '../ca/pem.ts';
import { printable } from '../core/customer-code.ts';
import { formatDuration } from '../core/duration.ts';
import { answerMayBeLost, type RenewalFailure } from '../core/renewal-messages.ts';
import { expiryNear, renewalDue, type DueVerdict } from '../core/renewal-schedule.ts';
import { certificatesOfPem, checkNewCertificate, issuersOf } from './check-answer.ts';
import { PairError, readPair, type CurrentPair } from './current-pair.ts';
import { EstFailure, estRequest, type EstAnswer, type EstConnection } from './est-client.ts';
import { buildCsr } from './make-csr.ts';
import { readCertsOnly } from './pkcs7.ts';
import { acquireLock, installPair, recoverPair, type InstallHooks, type PairPaths } from './write-pair.ts';

/** What one renewal run is asked to do (the command line, read). */
export interface RenewRequest {
  paths: PairPaths;
  url: URL;
  /** The text of `--ca`: the only certificates trusted for the server's TLS (else the system store). */
  caPem?: string;
  /** `--before`; the default (a third of the lifetime, with jitter) when absent. */
  beforeMs?: number;
  /** Renew whatever the time (the daemon on SIGHUP). */
  force?: boolean;
}

/**
 * A re-enrolment sent whose answer did not arrive: a retry sends the same CSR (the server
 * answers the certificate it issued for it), not a new key. Kept in memory only (the daemon).
 */
export interface PendingRequest {
  /** SHA-256 of the certificate it renews: a pending request is only for that certificate. */
  forCertificate: string;
  key: KeyObject;
  csr: Buffer;
}

export interface RenewDeps {
  now(): Date;
  /** A number in [0, 1) for the default's spread; see `certificateJitter`. */
  jitter(current: CurrentPair): number;
  newKey(): Promise<KeyObject>;
  timeoutMs: number;
  /**
   * Pauses before re-sending the same CSR when an answer may have been lost (a timeout, a 5xx,
   * a broken connection): the one-shot command waits 5 s and 20 s; none by default.
   */
  retryPausesMs?: readonly number[];
  hooks?: InstallHooks;
  /** Holds a pending request between the daemon's attempts. */
  pending?: { request?: PendingRequest };
}

export type RenewOutcome =
  | { kind: 'not_due'; current: CurrentPair; verdict: DueVerdict; notes: string[] }
  | { kind: 'renewed'; previous: CurrentPair; certificate: X509Certificate; notes: string[] }
  | { kind: 'failed'; failure: RenewalFailure; current: CurrentPair; warning?: string; notes: string[] };

/**
 * One renewal: finish an interrupted one, read the pair, decide whether it is due, and if so
 * re-enrol with a new key over mTLS, check the answer and install the new pair. Nothing is
 * written unless the new certificate passed every check. Throws `PairError` for files that
 * cannot be used and `FilesError` (lock, directory) before anything is sent.
 */
export async function renewOnce(request: RenewRequest, deps: RenewDeps): Promise<RenewOutcome> {
  const release = await acquireLock(request.paths);
  try {
    const notes: string[] = [];
    const recovered = await recoverPair(request.paths);
    if (recovered) notes.push(recovered);
    const current = await readCurrent(request.paths);
    const now = deps.now();
    const verdict = renewalDue(current, now, { beforeMs: request.beforeMs, jitter: deps.jitter(current) });
    if (!verdict.due && !request.force) return { kind: 'not_due', current, verdict, notes };
    const result = await reenrol(request, deps, current);
    if (!result.ok) {
      const warning = expiryNear(current, deps.now())
        ? expiryWarning(request.paths.cert, current, deps.now())
        : undefined;
      return { kind: 'failed', failure: result.failure, current, notes, ...(warning ? { warning } : {}) };
    }
    await installPair(
      request.paths,
      {
        cert: toPem('CERTIFICATE', result.certificate.raw),
        key: result.key.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
      deps.hooks,
    );
    return { kind: 'renewed', previous: current, certificate: result.certificate, notes };
  } finally {
    await release();
  }
}

async function readCurrent(paths: PairPaths): Promise<CurrentPair> {
  const read = (path: string) =>
    readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new PairError(`cannot read ${path}: ${error.code ?? error.message}`);
    });
  const [certText, keyText] = await Promise.all([read(paths.cert), read(paths.key)]);
  return readPair(certText, keyText, paths);
}

type Reenrolled =
  { ok: true; certificate: X509Certificate; key: KeyObject } | { ok: false; failure: RenewalFailure };

async function reenrol(request: RenewRequest, deps: RenewDeps, current: CurrentPair): Promise<Reenrolled> {
  const tls: EstConnection = {
    url: request.url,
    timeoutMs: deps.timeoutMs,
    ...(request.caPem ? { caPem: request.caPem } : {}),
  };
  try {
    const anchors = await trustAnchors(tls, request, current);
    if (anchors.length === 0) {
      return {
        ok: false,
        failure: {
          code: 'ca_unavailable',
          detail: `neither --ca nor the server's cacerts hold the CA that issued ${request.paths.cert}`,
        },
      };
    }
    const pending = reusablePending(deps, current);
    const key = pending?.key ?? (await deps.newKey());
    const csr = pending?.csr ?? buildCsr(current.subjectDer, key);
    if (deps.pending) deps.pending.request = { forCertificate: fingerprint(current), key, csr };
    const mtls: EstConnection = {
      ...tls,
      certPem: toPem('CERTIFICATE', current.der),
      keyPem: current.key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    const body = base64Lines(csr);
    const post = () =>
      estRequest(mtls, '/.well-known/est/simplereenroll', {
        method: 'POST',
        contentType: 'application/pkcs10',
        body,
      });
    // A lost answer is retried at once with the same CSR: the server answers the certificate it
    // made for it. A new key after a lost answer would be refused as not_current.
    let answer: EstAnswer | undefined;
    for (const pause of [...(deps.retryPausesMs ?? []), undefined]) {
      const attempt = await post().then(
        (a) => ({ answer: a, failure: answerFailure(a) }),
        (error: unknown) => {
          if (error instanceof EstFailure) return { answer: undefined, failure: error.failure };
          throw error;
        },
      );
      if (pause === undefined || !attempt.failure || !answerMayBeLost(attempt.failure.code)) {
        if (!attempt.answer) throw new EstFailure(attempt.failure!);
        answer = attempt.answer;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    if (!answer) throw new Error('unreachable');
    const failure = answerFailure(answer);
    if (failure) return dropPendingUnlessLost(deps, { ok: false, failure });
    const checked = checkNewCertificate(answer.body, { current, newKey: key, anchors, now: deps.now() });
    if (deps.pending) delete deps.pending.request;
    if (!checked.ok) return { ok: false, failure: { code: 'answer_rejected', detail: checked.detail } };
    return { ok: true, certificate: checked.value, key };
  } catch (error) {
    if (error instanceof EstFailure)
      return dropPendingUnlessLost(deps, { ok: false, failure: error.failure });
    throw error;
  }
}

function dropPendingUnlessLost(deps: RenewDeps, result: { ok: false; failure: RenewalFailure }) {
  if (deps.pending && !answerMayBeLost(result.failure.code)) delete deps.pending.request;
  return result;
}

function reusablePending(deps: RenewDeps, current: CurrentPair): PendingRequest | undefined {
  const pending = deps.pending?.request;
  return pending && pending.forCertificate === fingerprint(current) ? pending : undefined;
}

const fingerprint = (current: CurrentPair) => createHash('sha256').update(current.der).digest('hex');

/**
 * The CA certificates the new certificate must be signed by: those that issued the current
 * one, from --ca, else from GET cacerts over the TLS connection verified against --ca (or
 * the system store). A cacerts answer never becomes trusted for TLS itself.
 */
async function trustAnchors(
  tls: EstConnection,
  request: RenewRequest,
  current: CurrentPair,
): Promise<X509Certificate[]> {
  const fromCa = request.caPem ? issuersOf(current.certificate, certificatesOfPem(request.caPem)) : [];
  if (fromCa.length > 0) return fromCa;
  const answer = await estRequest(tls, '/.well-known/est/cacerts', { method: 'GET' });
  if (answer.status !== 200) {
    throw new EstFailure({
      code: 'ca_unavailable',
      status: answer.status,
      detail: `GET /.well-known/est/cacerts answered ${answer.status}`,
    });
  }
  let certificates: X509Certificate[];
  try {
    certificates = readCertsOnly(answer.body).map((der) => new X509Certificate(der));
  } catch {
    throw new EstFailure({ code: 'ca_unavailable', detail: 'the cacerts answer is not a certs-only PKCS#7' });
  }
  return issuersOf(current.certificate, certificates);
}

/** The failure an answer other than 200 with a PKCS#7 body means, or undefined. */
function answerFailure(answer: {
  status: number;
  contentType: string;
  body: string;
}): RenewalFailure | undefined {
  if (answer.status === 200 && /^application\/pkcs7-mime\b/i.test(answer.contentType)) return undefined;
  if (answer.status === 200) {
    return {
      code: 'unexpected_answer',
      status: 200,
      detail: `a ${printable(answer.contentType, 60) || 'typeless'} answer`,
    };
  }
  const refusal = serverRefusal(answer.body);
  if (refusal) return { ...refusal, status: answer.status };
  return answer.status >= 500
    ? { code: 'server_error', status: answer.status, detail: `HTTP ${answer.status}` }
    : {
        code: 'unexpected_answer',
        status: answer.status,
        detail: `HTTP ${answer.status} without an error code`,
      };
}

/** `{"errors":[{"code","message"}]}`: the first error, its texts made safe to print. */
function serverRefusal(body: string): { code: string; serverMessage?: string } | undefined {
  try {
    const first = (JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] }).errors?.[0];
    if (typeof first?.code !== 'string' || !/^[a-z0-9_]{1,60}$/.test(first.code)) return undefined;
    return {
      code: first.code,
      ...(typeof first.message === 'string' && first.message
        ? { serverMessage: printable(first.message, 300) }
        : {}),
    };
  } catch {
    return undefined;
  }
}

/** Base64 in lines of 64, as RFC 7030 bodies usually are. */
function base64Lines(der: Buffer): string {
  return `${(der.toString('base64').match(/.{1,64}/g) ?? []).join('\r\n')}\r\n`;
}

/**
 * The default jitter: a number in [0, 1) from the SHA-256 of the certificate. Spread evenly
 * over certificates like a random draw, but the same for every run on one certificate: a
 * fresh draw per run (cron daily, the daemon hourly) would make the earliest point of the
 * spread the one that counts.
 */
export function certificateJitter(current: CurrentPair): number {
  return createHash('sha256').update(current.der).digest().readUInt32BE(0) / 2 ** 32;
}

function expiryWarning(cert: string, current: CurrentPair, now: Date): string {
  const left = current.notAfter.getTime() - now.getTime();
  const when = current.notAfter.toISOString();
  return left <= 0
    ? `WARNING: ${cert} expired on ${when} (${formatDuration(left)} ago): the connector cannot use it; upload a new CSR on the dashboard`
    : `WARNING: ${cert} expires on ${when}, in ${formatDuration(left)}, and renewal failed: the connector stops working then unless the problem above is fixed`;
}
