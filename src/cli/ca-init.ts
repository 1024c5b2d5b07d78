import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  CaError,
  caFilesExist,
  createCaMaterial,
  loadCertificateAuthority,
  writeCaFiles,
} from '../ca/certificate-authority.ts';
import { caFilesFor } from '../ca/open-ca.ts';
import type { Config } from '../config.ts';
import { UsageError, type Output } from './output.ts';

/**
 * `ons-certs ca init [--force] [--cn NAME]`: a new RSA-4096 CA valid ten years, written to
 * CA_CERT_PATH/CA_KEY_PATH (key encrypted with CA_KEY_PASSPHRASE when set) or DATA_DIR/ca.
 */
export async function caInit(
  args: string[],
  config: Pick<Config, 'ca' | 'dataDir'>,
  output: Output,
): Promise<number> {
  let values: { force: boolean; cn: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        force: { type: 'boolean', default: false },
        cn: { type: 'string', default: 'ons-certs client CA' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const files = caFilesFor(config);
  if (!values.force && caFilesExist(files)) {
    // Checked before the key is generated so a refusal is immediate; the write refuses too.
    output.err(`ons-certs: ${files.certPath} already exists: use --force to replace the CA`);
    return 1;
  }
  try {
    const material = await createCaMaterial({ commonName: values.cn, randomBytes });
    await writeCaFiles(files, material, values.force);
  } catch (error) {
    if (error instanceof CaError) {
      output.err(`ons-certs: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const ca = await loadCertificateAuthority(files);
  output.out(
    `created the CA "${values.cn}"${files.development ? ' (in DATA_DIR, as no CA_CERT_PATH is set)' : ''}`,
  );
  output.out(`  certificate: ${files.certPath}`);
  output.out(
    `  key:         ${files.keyPath}${files.passphrase ? ' (encrypted with CA_KEY_PASSPHRASE)' : ' (mode 0600)'}`,
  );
  output.out(`  valid until: ${ca.certificate.validTo}`);
  output.out(`  SHA-256:     ${ca.certificate.fingerprint256}`);
  return 0;
}
