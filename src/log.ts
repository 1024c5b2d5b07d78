import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The service's logger. Secrets never belong in a log line; the redaction list is a second
 * line of defence for the fields that could carry one by mistake.
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
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination(2),
  );
}
