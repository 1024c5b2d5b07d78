import { classifyCustomerCode } from '../../core/customer-code.ts';
import { code, dashboard, ours, paragraph, type Block } from './blocks.ts';
import { formatMailDate } from './mail-dates.ts';
import { oneLine } from './mail-text.ts';

/**
 * What the mails say about one certificate: its facts, its environment, and how to get a new one
 * on the same line.
 */

/** What the mails say about one issued certificate. */
export interface CertificateFacts {
  /** The supplier's name. */
  supplier: string;
  /** The connector's technical name. */
  connector: string;
  version: string;
  customerCode: string;
  commonName: string;
  serial: string;
  fingerprintSha256: string;
  notBefore: Date;
  notAfter: Date;
  /** The dashboard page of the connector version. */
  dashboardUrl: string;
}

/** A certificate's facts as label and value rows. */
export function certificateRows(facts: CertificateFacts): Block {
  return {
    kind: 'facts',
    rows: [
      ['Connector', [code(facts.connector)]],
      ['Version', [code(facts.version)]],
      ['Customer code', [code(facts.customerCode), { ours: environmentNote(facts.customerCode) }]],
      ['Common name (CN)', [code(facts.commonName)]],
      ['Serial number', [code(facts.serial)]],
      ['SHA-256 fingerprint', [code(facts.fingerprintSha256)]],
      ['Valid from', [{ ours: formatMailDate(facts.notBefore) }]],
      ['Valid until', [{ ours: formatMailDate(facts.notAfter) }]],
    ],
  };
}

/** ` (staging)` and the like, or nothing for a code that is none of the kinds. */
export function environmentNote(customerCode: string): string {
  const kind = classifyCustomerCode(customerCode.trim().toUpperCase());
  return kind.ok ? ` (${kind.kind})` : '';
}

/** Whether the customer code is Nedap's development environment. */
export function isDevelopment(customerCode: string): boolean {
  const kind = classifyCustomerCode(customerCode.trim().toUpperCase());
  return kind.ok && kind.kind === 'development';
}

// A CN the policy allows (`name-CODE-identification`) is safe to show inside a shell command.
const SHELL_SAFE = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * How to get a new certificate on the same line: a new key and CSR, uploaded in the dashboard,
 * signed without a ticket because of the earlier consent (or because it is development).
 */
export function renewalBlocks(facts: CertificateFacts): Block[] {
  const link = dashboard(facts.dashboardUrl);
  const why = isDevelopment(facts.customerCode)
    ? 'Development certificates need no approval, so the new CSR is signed automatically, without a ticket.'
    : 'The healthcare organisation has already given its consent for this connector and customer code, ' +
      'so the new CSR is signed automatically: no new ticket is needed.';
  const blocks: Block[] = [
    paragraph`To get a new certificate, create a new private key and a CSR for it, and upload the CSR on the same line (connector ${code(facts.connector)}, version ${code(facts.version)}, customer code ${code(facts.customerCode)}) in ${link}. Use a new key: a CSR with the key of an earlier certificate is refused. ${ours(why)} The new certificate can then be downloaded there right away.`,
  ];
  const cn = oneLine(facts.commonName);
  if (SHELL_SAFE.test(cn)) {
    blocks.push(
      paragraph`For example, with OpenSSL (replace each … with the value from your current certificate; OU, O, L, ST, C and emailAddress are all required):`,
      {
        kind: 'code',
        text:
          `openssl req -new -newkey rsa:4096 -nodes -keyout ${cn}.key -out ${cn}.csr ` +
          `-subj "/CN=${cn}/OU=…/O=…/L=…/ST=…/C=…/emailAddress=…"`,
      },
      paragraph`Keep the .key file secret on your own systems; only the .csr file is uploaded.`,
    );
  }
  return blocks;
}
