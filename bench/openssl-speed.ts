import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * `openssl speed -seconds S rsa4096`: RSA-4096 private-key operations per second on one core,
 * the physical floor of issuing a certificate, measured in the same run as what it scales.
 */
export async function opensslRsa4096SignsPerSecond(seconds = 3): Promise<number> {
  const { stdout } = await promisify(execFile)('openssl', ['speed', '-seconds', String(seconds), 'rsa4096'], {
    encoding: 'utf8',
  });
  const line = stdout.split('\n').find((l) => /^rsa\s+4096 bits/.test(l));
  const numbers = line?.trim().split(/\s+/).slice(3).map(Number);
  const signs = numbers?.[2];
  if (!signs || !Number.isFinite(signs)) throw new Error(`cannot read openssl speed output:\n${stdout}`);
  return signs;
}
