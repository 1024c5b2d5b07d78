import { existsSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_WRITE_PACE } from './core/github-write-pace.ts';

/**
 * The service's configuration: the only place that reads the environment. Every variable of
 * docs/interfaces.md is read once here, validated, and handed down frozen.
 */
export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string;
  queuePrefix: string;
  ca: { certPath: string; keyPath: string; passphrase: string | undefined } | undefined;
  csrMinRsaBits: number;
  github: {
    appId: string | undefined;
    privateKey: string | undefined;
    privateKeyPath: string | undefined;
    webhookSecret: string | undefined;
    gheHost: string | undefined;
    gheProtocol: 'http' | 'https';
    /** GITHUB_WRITES_PER_MINUTE / GITHUB_WRITES_PER_HOUR: the pace of writes per installation. */
    writePace: { perMinute: number; perHour: number };
  };
  adminToken: string | undefined;
  smtpUrl: string | undefined;
  mailFrom: string;
  supportRepo: string | undefined;
  reminderDays: number;
  /** CRL_VALIDITY_HOURS: from a CRL's thisUpdate to its nextUpdate. */
  crlValidityHours: number;
  /** EXPIRY_SCAN_AT: the time of day (UTC) of the daily expiry scan. */
  expiryScanAt: { hour: number; minute: number };
  workers: 'all' | 'web' | 'worker';
  /**
   * RENEW_PORT: the EST renewal listener (mTLS, src/est/), off when unset; its TLS server
   * certificate from RENEW_TLS_CERT_PATH/RENEW_TLS_KEY_PATH, else a self-signed one for localhost.
   */
  renew: { port: number; tls: { certPath: string; keyPath: string } | undefined } | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** LOG_FORMAT: `pretty` (readable lines), `json` (JSON lines), `auto` (pretty on a terminal). */
  logFormat: 'auto' | 'json' | 'pretty';
}

/** A configuration the service cannot run with; the message names every wrong variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const blankAsUnset = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankAsUnset, schema.optional());
const integer = (min: number, max: number, fallback: number) =>
  z.preprocess(
    blankAsUnset,
    z
      .string()
      .regex(/^\d+$/, { message: `must be a whole number from ${min} to ${max}` })
      .transform(Number)
      .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .default(fallback),
  );
const url = (protocols: string[], example: string) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL such as ${example}` },
  );

const schema = z
  .object({
    PORT: integer(0, 65535, 3000),
    HOST: z.preprocess(blankAsUnset, z.string().default('127.0.0.1')),
    PUBLIC_URL: z.preprocess(
      blankAsUnset,
      url(['http:', 'https:'], 'https://certs.example.com').default('http://localhost:3000'),
    ),
    DATA_DIR: z.preprocess(blankAsUnset, z.string().default('./data')),
    DATABASE_URL: optional(url(['postgres:', 'postgresql:'], 'postgres://user@127.0.0.1:5432/ons_certs')),
    REDIS_URL: z.preprocess(
      blankAsUnset,
      url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379').default('redis://127.0.0.1:6379'),
    ),
    QUEUE_PREFIX: z.preprocess(
      blankAsUnset,
      z
        .string()
        .regex(/^[A-Za-z0-9_.-]+$/, { message: 'must be letters, digits, dots, dashes or underscores' })
        .default('ons-certs'),
    ),
    CA_CERT_PATH: optional(z.string()),
    CA_KEY_PATH: optional(z.string()),
    CA_KEY_PASSPHRASE: optional(z.string()),
    CSR_MIN_RSA_BITS: integer(2048, 16384, 4096),
    APP_ID: optional(z.string().regex(/^\d+$/, { message: "must be the GitHub App's numeric id" })),
    PRIVATE_KEY: optional(z.string()),
    PRIVATE_KEY_PATH: optional(z.string()),
    WEBHOOK_SECRET: optional(z.string()),
    GHE_HOST: optional(
      z
        .string()
        .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, { message: 'must be a host name such as github.example.com' }),
    ),
    GHE_PROTOCOL: z.preprocess(blankAsUnset, z.enum(['http', 'https']).default('https')),
    // GitHub.com's secondary limits: ~80 content-creating requests a minute, 500 an hour.
    GITHUB_WRITES_PER_MINUTE: integer(1, 600, DEFAULT_WRITE_PACE.perMinute),
    GITHUB_WRITES_PER_HOUR: integer(1, 36_000, DEFAULT_WRITE_PACE.perHour),
    ADMIN_TOKEN: optional(z.string().min(16, 'must be at least 16 characters (use a long random value)')),
    SMTP_URL: optional(url(['smtp:', 'smtps:'], 'smtp://user:pass@mail.example.com:587')),
    MAIL_FROM: z.preprocess(blankAsUnset, z.string().default('ons-certs <no-reply@localhost>')),
    SUPPORT_REPO: optional(
      z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { message: 'must be owner/name' }),
    ),
    REMINDER_DAYS: integer(1, 365, 30),
    CRL_VALIDITY_HOURS: integer(1, 720, 24),
    EXPIRY_SCAN_AT: z.preprocess(
      blankAsUnset,
      z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be a time of day (UTC) such as 03:00' })
        .default('03:00'),
    ),
    WORKERS: z.preprocess(blankAsUnset, z.enum(['all', 'web', 'worker']).default('all')),
    RENEW_PORT: optional(
      z
        .string()
        .regex(/^\d+$/, { message: 'must be a whole number from 0 to 65535' })
        .transform(Number)
        .pipe(z.number().int().max(65535, 'must be at most 65535')),
    ),
    RENEW_TLS_CERT_PATH: optional(z.string()),
    RENEW_TLS_KEY_PATH: optional(z.string()),
    LOG_LEVEL: z.preprocess(
      blankAsUnset,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
    LOG_FORMAT: z.preprocess(blankAsUnset, z.enum(['auto', 'json', 'pretty']).default('auto')),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.CA_CERT_PATH) !== Boolean(env.CA_KEY_PATH)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.CA_CERT_PATH ? 'CA_KEY_PATH' : 'CA_CERT_PATH'],
        message: 'CA_CERT_PATH and CA_KEY_PATH must be set together',
      });
    }
    if (env.PRIVATE_KEY && env.PRIVATE_KEY_PATH) {
      ctx.addIssue({
        code: 'custom',
        path: ['PRIVATE_KEY_PATH'],
        message: 'set PRIVATE_KEY or PRIVATE_KEY_PATH, not both',
      });
    }
    if (Boolean(env.RENEW_TLS_CERT_PATH) !== Boolean(env.RENEW_TLS_KEY_PATH)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.RENEW_TLS_CERT_PATH ? 'RENEW_TLS_KEY_PATH' : 'RENEW_TLS_CERT_PATH'],
        message: 'RENEW_TLS_CERT_PATH and RENEW_TLS_KEY_PATH must be set together',
      });
    }
    if (env.RENEW_PORT !== undefined && env.RENEW_PORT !== 0 && env.RENEW_PORT === env.PORT) {
      ctx.addIssue({
        code: 'custom',
        path: ['RENEW_PORT'],
        message: 'must differ from PORT (the renewal listener is a server of its own)',
      });
    }
  });

/** Validates an environment; throws `ConfigError` listing every wrong variable with its value. */
export function loadConfig(env: Record<string, string | undefined>): Readonly<Config> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'configuration');
      const value = env[name];
      // URLs may carry a password (postgres://user:pass@host): never echo those either.
      const secret =
        /KEY|SECRET|TOKEN|PASSPHRASE/.test(name) || (name.endsWith('_URL') && (value ?? '').includes('@'));
      const shown = value === undefined || secret ? '' : ` (got "${value}")`;
      return `${name} ${issue.message}${shown}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL.replace(/\/+$/, ''),
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    ca:
      e.CA_CERT_PATH && e.CA_KEY_PATH
        ? Object.freeze({ certPath: e.CA_CERT_PATH, keyPath: e.CA_KEY_PATH, passphrase: e.CA_KEY_PASSPHRASE })
        : undefined,
    csrMinRsaBits: e.CSR_MIN_RSA_BITS,
    github: Object.freeze({
      appId: e.APP_ID,
      privateKey: e.PRIVATE_KEY,
      privateKeyPath: e.PRIVATE_KEY_PATH,
      webhookSecret: e.WEBHOOK_SECRET,
      gheHost: e.GHE_HOST,
      gheProtocol: e.GHE_PROTOCOL,
      writePace: Object.freeze({ perMinute: e.GITHUB_WRITES_PER_MINUTE, perHour: e.GITHUB_WRITES_PER_HOUR }),
    }),
    adminToken: e.ADMIN_TOKEN,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    supportRepo: e.SUPPORT_REPO,
    reminderDays: e.REMINDER_DAYS,
    crlValidityHours: e.CRL_VALIDITY_HOURS,
    expiryScanAt: Object.freeze({
      hour: Number(e.EXPIRY_SCAN_AT.slice(0, 2)),
      minute: Number(e.EXPIRY_SCAN_AT.slice(3, 5)),
    }),
    workers: e.WORKERS,
    renew:
      e.RENEW_PORT === undefined
        ? undefined
        : Object.freeze({
            port: e.RENEW_PORT,
            tls:
              e.RENEW_TLS_CERT_PATH && e.RENEW_TLS_KEY_PATH
                ? Object.freeze({ certPath: e.RENEW_TLS_CERT_PATH, keyPath: e.RENEW_TLS_KEY_PATH })
                : undefined,
          }),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
  });
}

/**
 * The process environment with `.env` (in the working directory) underneath it: variables
 * already set win, as with dotenv.
 */
export function readEnvironment(envFile = '.env'): Record<string, string | undefined> {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return { ...process.env };
}
