import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

/** The ConfigError that loadConfig throws for an environment (fails the test if it does not). */
function errorFor(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      publicUrl: 'http://localhost:3000',
      dataDir: './data',
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'ons-certs',
      csrMinRsaBits: 4096,
      reminderDays: 30,
      workers: 'all',
      databaseUrl: undefined,
      ca: undefined,
      adminToken: undefined,
      smtpUrl: undefined,
    });
  });

  it('reads the documented variables', () => {
    const config = loadConfig({
      PORT: '8443',
      HOST: '0.0.0.0',
      PUBLIC_URL: 'https://certs.example.com/',
      DATA_DIR: '/var/lib/ons-certs',
      DATABASE_URL: 'postgres://app@db:5432/ons_certs',
      REDIS_URL: 'rediss://cache:6380',
      QUEUE_PREFIX: 'test-1',
      CA_CERT_PATH: '/etc/ca.pem',
      CA_KEY_PATH: '/etc/ca.key',
      CA_KEY_PASSPHRASE: 'secret passphrase',
      CSR_MIN_RSA_BITS: '3072',
      ADMIN_TOKEN: 'x'.repeat(32),
      SMTP_URL: 'smtp://mail.example.com:587',
      REMINDER_DAYS: '14',
      WORKERS: 'worker',
    });
    expect(config).toMatchObject({
      port: 8443,
      host: '0.0.0.0',
      publicUrl: 'https://certs.example.com',
      dataDir: '/var/lib/ons-certs',
      databaseUrl: 'postgres://app@db:5432/ons_certs',
      redisUrl: 'rediss://cache:6380',
      queuePrefix: 'test-1',
      ca: { certPath: '/etc/ca.pem', keyPath: '/etc/ca.key', passphrase: 'secret passphrase' },
      csrMinRsaBits: 3072,
      adminToken: 'x'.repeat(32),
      smtpUrl: 'smtp://mail.example.com:587',
      reminderDays: 14,
      workers: 'worker',
    });
  });

  it('reports every wrong variable in one error', () => {
    const error = errorFor({
      PORT: 'abc',
      WORKERS: 'both',
      PUBLIC_URL: 'not a url',
      REDIS_URL: 'http://127.0.0.1:6379',
      CSR_MIN_RSA_BITS: '1024',
      REMINDER_DAYS: '0',
      HOST: 'localhost',
    });
    const wrong = ['PORT', 'WORKERS', 'PUBLIC_URL', 'REDIS_URL', 'CSR_MIN_RSA_BITS', 'REMINDER_DAYS'];
    for (const name of wrong) expect(error.message).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(error.message).not.toContain('HOST');
    expect(error.message).toContain('"abc"');
    expect(error.message).toContain('"both"');
    expect(error.message).toContain('"not a url"');
  });

  it.each([
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'mysql://db/ons'],
    ['SMTP_URL', 'mail.example.com'],
    ['QUEUE_PREFIX', 'has space'],
    ['WORKERS', 'ALL'],
    ['LOG_FORMAT', 'text'],
  ])('refuses %s=%s', (name, value) => {
    expect(errorFor({ [name]: value }).message).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it('never echoes a secret in the message', () => {
    const token = 'short-token';
    const passphrase = 'the-ca-passphrase';
    const error = errorFor({
      ADMIN_TOKEN: token,
      CA_CERT_PATH: '/etc/ca.pem',
      CA_KEY_PATH: '/etc/ca.key',
      CA_KEY_PASSPHRASE: passphrase,
      PORT: 'abc',
    });
    expect(error.message).toMatch(/^ {2}ADMIN_TOKEN /m);
    expect(error.message).not.toContain(token);
    expect(error.message).not.toContain(passphrase);
  });

  it('never echoes a URL that carries a password', () => {
    const error = errorFor({
      DATABASE_URL: 'mysql://app:db-password@db/ons',
      SMTP_URL: 'http://u:mail-pw@mail',
    });
    expect(error.message).toMatch(/^ {2}DATABASE_URL must be a URL such as postgres:/m);
    expect(error.message).toMatch(/^ {2}SMTP_URL /m);
    expect(error.message).not.toMatch(/db-password|mail-pw/);
  });

  it.each([
    ['CA_CERT_PATH', { CA_CERT_PATH: '/etc/ca.pem' }],
    ['CA_KEY_PATH', { CA_KEY_PATH: '/etc/ca.key' }],
  ])('refuses %s without the other one', (_name, env) => {
    expect(errorFor(env).message).toContain('CA_CERT_PATH and CA_KEY_PATH must be set together');
  });

  it('reads the time of the daily expiry scan, 03:00 UTC by default', () => {
    expect(loadConfig({}).expiryScanAt).toEqual({ hour: 3, minute: 0 });
    expect(loadConfig({ EXPIRY_SCAN_AT: '22:45' }).expiryScanAt).toEqual({ hour: 22, minute: 45 });
    expect(() => loadConfig({ EXPIRY_SCAN_AT: '25:00' })).toThrow(/EXPIRY_SCAN_AT must be a time of day/);
  });

  it("reads GitHub's write pace: 75 a minute and 500 an hour by default", () => {
    expect(loadConfig({}).github.writePace).toEqual({ perMinute: 75, perHour: 500 });
    const env = { GITHUB_WRITES_PER_MINUTE: '60', GITHUB_WRITES_PER_HOUR: '300' };
    expect(loadConfig(env).github.writePace).toEqual({ perMinute: 60, perHour: 300 });
    expect(errorFor({ GITHUB_WRITES_PER_MINUTE: '0' }).message).toMatch(
      /^ {2}GITHUB_WRITES_PER_MINUTE must be at least 1 \(got "0"\)/m,
    );
    expect(errorFor({ GITHUB_WRITES_PER_HOUR: 'lots' }).message).toMatch(
      /^ {2}GITHUB_WRITES_PER_HOUR must be a whole number/m,
    );
  });

  it('reads the validity of a CRL, 24 hours by default', () => {
    expect(loadConfig({}).crlValidityHours).toBe(24);
    expect(loadConfig({ CRL_VALIDITY_HOURS: '168' }).crlValidityHours).toBe(168);
    expect(errorFor({ CRL_VALIDITY_HOURS: '0' }).message).toMatch(
      /^ {2}CRL_VALIDITY_HOURS must be at least 1/m,
    );
  });

  it('reads the renewal listener: off without RENEW_PORT, its TLS files set together', () => {
    expect(loadConfig({}).renew).toBeUndefined();
    expect(loadConfig({ RENEW_PORT: '8444' }).renew).toEqual({ port: 8444, tls: undefined });
    expect(
      loadConfig({
        RENEW_PORT: '0',
        RENEW_TLS_CERT_PATH: '/etc/renew.pem',
        RENEW_TLS_KEY_PATH: '/etc/renew.key',
      }).renew,
    ).toEqual({ port: 0, tls: { certPath: '/etc/renew.pem', keyPath: '/etc/renew.key' } });
    expect(errorFor({ RENEW_PORT: 'https' }).message).toContain('RENEW_PORT must be a whole number');
    expect(errorFor({ RENEW_PORT: '70000' }).message).toContain('RENEW_PORT must be at most 65535');
    expect(errorFor({ RENEW_PORT: '3000' }).message).toContain('RENEW_PORT must differ from PORT');
    expect(errorFor({ RENEW_PORT: '8444', RENEW_TLS_CERT_PATH: '/etc/renew.pem' }).message).toContain(
      'RENEW_TLS_KEY_PATH RENEW_TLS_CERT_PATH and RENEW_TLS_KEY_PATH must be set together',
    );
  });

  it('treats blank values as unset', () => {
    const blank = loadConfig({
      PORT: '',
      HOST: '  ',
      PUBLIC_URL: '',
      DATA_DIR: ' ',
      DATABASE_URL: '',
      REDIS_URL: '\t',
      CA_CERT_PATH: '',
      CA_KEY_PATH: ' ',
      CSR_MIN_RSA_BITS: '',
      ADMIN_TOKEN: '',
      SMTP_URL: ' ',
      WORKERS: '',
    });
    expect(blank).toStrictEqual(loadConfig({}));
  });

  it('reads LOG_FORMAT: auto (pretty on a terminal) by default, json or pretty when set', () => {
    expect(loadConfig({}).logFormat).toBe('auto');
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
  });

  it('returns a frozen configuration', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(3000);
    const withCa = loadConfig({ CA_CERT_PATH: 'ca.pem', CA_KEY_PATH: 'ca.key', CA_KEY_PASSPHRASE: 'p' });
    expect(Object.isFrozen(withCa.ca)).toBe(true);
    expect(Object.isFrozen(withCa.github)).toBe(true);
  });
});
