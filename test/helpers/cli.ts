import { execFile } from 'node:child_process';
import { ROOT } from './fixtures.ts';

// prettier-ignore
const CONFIG_VARIABLES = [
  'PORT', 'HOST', 'PUBLIC_URL', 'DATA_DIR', 'DATABASE_URL', 'REDIS_URL', 'QUEUE_PREFIX', 'CA_CERT_PATH',
  'CA_KEY_PATH', 'CA_KEY_PASSPHRASE', 'CSR_MIN_RSA_BITS', 'APP_ID', 'PRIVATE_KEY', 'PRIVATE_KEY_PATH',
  'WEBHOOK_SECRET', 'GHE_HOST', 'GHE_PROTOCOL', 'ADMIN_TOKEN', 'SMTP_URL', 'MAIL_FROM', 'SUPPORT_REPO',
  'REMINDER_DAYS', 'EXPIRY_SCAN_AT', 'WORKERS', 'LOG_LEVEL', 'CRL_VALIDITY_HOURS', 'LOG_FORMAT',
];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ons-certs <args>` as a user would, with only the configuration variables given here. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CONFIG_VARIABLES) delete base[name];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['bin/ons-certs.js', ...args],
      { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}
