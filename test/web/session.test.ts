import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  csrfToken,
  csrfTokenValid,
  decodeSession,
  deriveSessionKeys,
  encodeSession,
  newSession,
  SESSION_SECONDS,
  type SessionKeys,
} from '../../src/web/session.ts';
import { loadTestCa } from '../helpers/fixtures.ts';

const SUPPLIER = '34ddd91f-e742-4696-b247-0937bd8a426c';
const NOW = new Date('2026-03-01T12:00:00Z');
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

describe('the signed session cookie', () => {
  let keys: SessionKeys;
  beforeAll(async () => {
    keys = deriveSessionKeys((await loadTestCa()).privateKey);
  });

  it('reads back what it wrote, signed in or anonymous, until it expires 8 hours later', () => {
    for (const supplierId of [SUPPLIER, undefined]) {
      const session = newSession(supplierId, NOW, randomBytes);
      const value = encodeSession(keys, session);
      expect(decodeSession(keys, value, NOW)).toEqual(session);
      expect(decodeSession(keys, value, later(SESSION_SECONDS - 1))).toEqual(session);
      expect(decodeSession(keys, value, later(SESSION_SECONDS))).toBeUndefined();
    }
  });

  it('every session has a nonce of its own', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => newSession(SUPPLIER, NOW, randomBytes).nonce));
    expect(nonces.size).toBe(50);
  });

  it('refuses any change to any part, a truncation, another format, or no cookie at all', () => {
    const value = encodeSession(keys, newSession(SUPPLIER, NOW, randomBytes));
    const parts = value.split('.');
    for (let i = 0; i < parts.length; i++) {
      const changed = [...parts];
      const part = changed[i]!;
      changed[i] = part.slice(0, -1) + (part.endsWith('0') ? '1' : '0');
      expect(decodeSession(keys, changed.join('.'), NOW), `part ${i}`).toBeUndefined();
    }
    for (const bad of [
      undefined,
      '',
      value.slice(0, -1),
      `${value}.x`,
      value.replace(/^v1/, 'v2'),
      'x'.repeat(300),
    ]) {
      expect(decodeSession(keys, bad, NOW)).toBeUndefined();
    }
  });

  it('refuses a cookie signed with another key (another CA), or made out for longer than 8 hours', () => {
    const other = deriveSessionKeys(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
    const session = newSession(SUPPLIER, NOW, randomBytes);
    expect(decodeSession(keys, encodeSession(other, session), NOW)).toBeUndefined();
    const long = { ...session, expiresAt: session.issuedAt + SESSION_SECONDS + 1 };
    expect(decodeSession(keys, encodeSession(keys, long), NOW)).toBeUndefined();
    const future = newSession(SUPPLIER, later(3600), randomBytes);
    expect(decodeSession(keys, encodeSession(keys, future), NOW)).toBeUndefined();
  });

  it('derives the same keys from the same CA key in every process, and two different ones', async () => {
    const again = deriveSessionKeys((await loadTestCa()).privateKey);
    expect(again.cookie.equals(keys.cookie)).toBe(true);
    expect(again.csrf.equals(keys.csrf)).toBe(true);
    expect(keys.cookie.equals(keys.csrf)).toBe(false);
    expect(keys.cookie).toHaveLength(32);
  });
});

describe('the CSRF token', () => {
  let keys: SessionKeys;
  beforeAll(async () => {
    keys = deriveSessionKeys((await loadTestCa()).privateKey);
  });

  it("is valid for its own session only, and never equal to the cookie's signature", () => {
    const session = newSession(SUPPLIER, NOW, randomBytes);
    const other = newSession(SUPPLIER, NOW, randomBytes);
    const token = csrfToken(keys, session);
    expect(csrfTokenValid(keys, session, token)).toBe(true);
    expect(csrfTokenValid(keys, other, token)).toBe(false);
    expect(csrfTokenValid(keys, undefined, token)).toBe(false);
    for (const wrong of [undefined, '', token.slice(1), `${token}x`, ['a'], 42]) {
      expect(csrfTokenValid(keys, session, wrong)).toBe(false);
    }
    expect(encodeSession(keys, session).endsWith(token)).toBe(false);
  });
});
