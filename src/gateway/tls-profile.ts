import { constants } from 'node:crypto';
import type { SecureContextOptions, SecureVersion } from 'node:tls';

/**
 * The Ons API's published TLS profile: TLS 1.2 or newer, and only forward-secret AEAD suites
 * (ECDHE or DHE key exchange with AES-GCM or ChaCha20-Poly1305). TLS 1.3's own suites are all
 * AEAD; these are the three OpenSSL enables by default (TLS_AES_128_CCM_* stay off).
 */
export const TLS_MIN_VERSION: SecureVersion = 'TLSv1.2';

export const TLS13_SUITES = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
];

export const TLS12_SUITES = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
];

/** The protocol part of a secure context; the key, certificate, CA and CRL come on top. */
export const TLS_PROFILE: SecureContextOptions = {
  minVersion: TLS_MIN_VERSION,
  // Node reads TLS 1.3 suites (TLS_*) and TLS 1.2 ones from the same list.
  ciphers: [...TLS13_SUITES, ...TLS12_SUITES].join(':'),
  honorCipherOrder: true,
  // DHE needs parameters; 'auto' uses well-known ones sized to the server key.
  dhparam: 'auto',
  // No session tickets: a resumed session skips the client certificate's CRL check.
  secureOptions: constants.SSL_OP_NO_TICKET,
};
