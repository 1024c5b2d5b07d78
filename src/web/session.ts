import { createHmac, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * A browser session, carried whole in a signed cookie: nothing about a live session is stored on
 * the server, so every web process of a deployment accepts the cookies of the others. Only a
 * signed-out session is recorded (table ended_sessions, by nonce, until it would have expired),
 * so that a copy of its cookie no longer works (src/web/page-auth.ts).
 */
export interface Session {
  /** The signed-in supplier; undefined while the visitor has only seen the sign-in form. */
  supplierId: string | undefined;
  /** Seconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
  /** 16 random bytes (base64url), new for every session: the CSRF token is derived from it. */
  nonce: string;
}

/** Two keys with separate purposes, so that a CSRF token can never pass as a cookie signature. */
export interface SessionKeys {
  cookie: Buffer;
  csrf: Buffer;
}

/** A session lasts 8 hours from sign-in, however busy it is; then the supplier signs in again. */
export const SESSION_SECONDS = 8 * 60 * 60;

const FORMAT = 'v1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NONCE = /^[A-Za-z0-9_-]{22}$/;
const ANONYMOUS = '-';
/** Clocks of the web processes may differ a little; a cookie "from the future" beyond this is refused. */
const SKEW_SECONDS = 300;

/**
 * The session keys, derived with HKDF-SHA256 from the CA's private key and a purpose label.
 * Every process that can sign certificates has that key already, so sessions need no new
 * setting; the derivation is one-way, so the cookies reveal nothing about the CA key. Replacing
 * the CA key signs everyone out.
 */
export function deriveSessionKeys(caPrivateKey: KeyObject): SessionKeys {
  const material = caPrivateKey.export({ format: 'der', type: 'pkcs8' });
  const derive = (label: string) => Buffer.from(hkdfSync('sha256', material, 'ons-certs web', label, 32));
  return { cookie: derive('session cookie signature v1'), csrf: derive('csrf token v1') };
}

/** A new session (anonymous when `supplierId` is undefined), valid for SESSION_SECONDS. */
export function newSession(
  supplierId: string | undefined,
  now: Date,
  randomBytes: (size: number) => Buffer,
): Session {
  const issuedAt = Math.floor(now.getTime() / 1000);
  return {
    supplierId,
    issuedAt,
    expiresAt: issuedAt + SESSION_SECONDS,
    nonce: randomBytes(16).toString('base64url'),
  };
}

/** `v1.<supplier id or ->.<issued>.<expires>.<nonce>.<HMAC-SHA256 of all before it>` */
export function encodeSession(keys: SessionKeys, session: Session): string {
  const payload = [
    FORMAT,
    session.supplierId ?? ANONYMOUS,
    session.issuedAt,
    session.expiresAt,
    session.nonce,
  ].join('.');
  return `${payload}.${mac(keys.cookie, payload)}`;
}

/** The session of a cookie value, or undefined when it is malformed, forged or expired. */
export function decodeSession(keys: SessionKeys, value: string | undefined, now: Date): Session | undefined {
  if (!value || value.length > 256) return undefined;
  const parts = value.split('.');
  if (parts.length !== 6) return undefined;
  const [format, supplier, issued, expires, nonce, signature] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!equal(signature, mac(keys.cookie, parts.slice(0, 5).join('.')))) return undefined;
  if (format !== FORMAT || !NONCE.test(nonce)) return undefined;
  if (supplier !== ANONYMOUS && !UUID.test(supplier)) return undefined;
  if (!/^\d{1,12}$/.test(issued) || !/^\d{1,12}$/.test(expires)) return undefined;
  const issuedAt = Number(issued);
  const expiresAt = Number(expires);
  const seconds = now.getTime() / 1000;
  if (expiresAt <= seconds || issuedAt > seconds + SKEW_SECONDS || expiresAt - issuedAt > SESSION_SECONDS) {
    return undefined;
  }
  return { supplierId: supplier === ANONYMOUS ? undefined : supplier, issuedAt, expiresAt, nonce };
}

/** The CSRF token of a session: what every form of it carries in a hidden field. */
export function csrfToken(keys: SessionKeys, session: Session): string {
  return mac(keys.csrf, session.nonce);
}

/** Whether a form's token belongs to this session (compared in constant time). */
export function csrfTokenValid(keys: SessionKeys, session: Session | undefined, presented: unknown): boolean {
  if (!session || typeof presented !== 'string') return false;
  return equal(presented, csrfToken(keys, session));
}

function mac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

function equal(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
