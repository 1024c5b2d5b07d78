import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };

/**
 * The service's logger. Secrets never belong in a log line; the redaction list is a second
 * line of defence for the fields that could carry one by mistake. Errors are logged through
 * `safeError` (wherever they sit in the logged object), and no Buffer is ever written: request
 * bodies, SQL parameters and upload bytes cannot reach the log that way.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'ons-certs' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'privateKey',
          'token',
          '*.token',
          'passphrase',
          'body',
          '*.body',
          'payload',
          '*.payload',
          'parameters',
          '*.parameters',
        ],
        censor: '[redacted]',
      },
      serializers: { err: safeLogValue, error: safeLogValue },
      formatters: { log: (object) => safeLogValue(object) as Record<string, unknown> },
      hooks: {
        // `log.error(error)` without a message would make the error's raw message the line's.
        logMethod(args, method) {
          const [first, second] = args as unknown[];
          if (isError(first) && typeof second !== 'string') {
            return method.apply(this, [first, safeMessage(first), ...args.slice(1)] as never);
          }
          return method.apply(this, args);
        },
      },
    },
    destination ?? pino.destination(2),
  );
}

/**
 * Fields of an error that say what happened without carrying data: codes, statuses, and the
 * names PostgreSQL gives (never its `detail`, `where`, or a query's parameters, which quote
 * the values of the row or statement).
 */
const SAFE_FIELDS = [
  'code',
  'status',
  'statusCode',
  'errno',
  'syscall',
  'severity',
  'routine',
  'constraint_name',
  'constraint',
  'table_name',
  'column_name',
  'schema_name',
] as const;

const MAX_MESSAGE = 500;
const MAX_FRAMES = 15;
const MAX_DEPTH = 5;

function isError(value: unknown): value is Error {
  return value instanceof Error;
}

/** A PostgreSQL error (a five-character SQLSTATE) or drizzle's wrapper of one. */
function isDatabaseError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    error.name === 'PostgresError' ||
    error.constructor?.name === 'DrizzleQueryError' ||
    (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && 'severity' in error)
  );
}

/** Values quoted in a message ("...", '...') and byte values (0x00 0xff): what input leaves there. */
function withoutQuotedValues(message: string): string {
  return message
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '"…"')
    .replace(/0x[0-9a-f]{2}(?:\s*0x[0-9a-f]{2})*/gi, '0x…');
}

/**
 * An error's message fit for the log: drizzle's "Failed query" message lists the parameters
 * (dropped with the SQL); PostgreSQL's and JSON.parse's messages quote the input (the values
 * go); every message is cut to 500 characters.
 */
export function safeMessage(error: Error): string {
  const raw = typeof error.message === 'string' ? error.message : '';
  let message = raw;
  if (error.constructor?.name === 'DrizzleQueryError' || raw.startsWith('Failed query:'))
    message = 'Failed query (its SQL and parameters are not logged)';
  else if (isDatabaseError(error) || error instanceof SyntaxError) message = withoutQuotedValues(raw);
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
}

/** An error as a plain object of safe fields: type, safe message, stack frames (no message in them). */
function safeError(error: Error, depth: number): Record<string, unknown> {
  const type = error.constructor?.name || error.name || 'Error';
  const message = safeMessage(error);
  const frames = String(error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, MAX_FRAMES);
  const out: Record<string, unknown> = {
    type,
    message,
    stack: [`${type}: ${message}`, ...frames].join('\n'),
  };
  for (const field of SAFE_FIELDS) {
    const value = (error as unknown as Record<string, unknown>)[field];
    if (typeof value === 'number' || typeof value === 'boolean') out[field] = value;
    else if (typeof value === 'string') out[field] = value.slice(0, 100);
  }
  // An Octokit RequestError: which call failed, never what it sent or got back.
  const request = (error as { request?: { method?: unknown; url?: unknown } }).request;
  if (request && typeof request === 'object')
    out['request'] = { method: String(request.method ?? ''), url: String(request.url ?? '').slice(0, 300) };
  if (depth < MAX_DEPTH) {
    const cause = (error as { cause?: unknown }).cause;
    if (isError(cause)) out['cause'] = safeError(cause, depth + 1);
    const errors = (error as { errors?: unknown }).errors;
    if (Array.isArray(errors))
      out['errors'] = errors
        .slice(0, 5)
        .map((e) => (isError(e) ? safeError(e, depth + 1) : '[not an error]'));
  }
  return out;
}

/**
 * What a logged value may show: errors (anywhere in it) as `safeError`, bytes as their length
 * only, plain objects and arrays walked a few levels deep. Anything deeper is left out.
 */
export function safeLogValue(value: unknown, depth = 0): unknown {
  if (isError(value)) return safeError(value, 0);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array || value instanceof ArrayBuffer)
    return `[${value.byteLength} bytes, not logged]`;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested too deep, not logged]';
  if (Array.isArray(value)) return value.map((item) => safeLogValue(item, depth + 1));
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = safeLogValue(item, depth + 1);
  return out;
}

/**
 * Where the log goes: stderr, as JSON lines (for a log collector) or, for a person at a
 * terminal, as pino-pretty's readable lines. `auto` (LOG_FORMAT's default) is pretty when
 * stderr, which the log is written to, is a terminal.
 */
export function logDestination(
  format: 'auto' | 'json' | 'pretty',
  stderr: { isTTY?: boolean } = process.stderr,
): pino.DestinationStream {
  const pretty = format === 'pretty' || (format === 'auto' && stderr.isTTY === true);
  if (!pretty) return pino.destination(2);
  return pinoPretty({
    destination: 2,
    sync: true, // the last lines before an exit are not lost
    colorize: stderr.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
  });
}
