import { code, dashboard, ours, paragraph, words, type Block, type Inline, type Mail } from './blocks.ts';
import { certificateRows, type CertificateFacts } from './certificate-blocks.ts';
import { formatMailDate } from './mail-dates.ts';
import { renderMail } from './render-mail.ts';

/**
 * The e-mail that a certificate was issued (product.md, flows 1 to 3), to the supplier: how it
 * came about, its facts, and where to download it.
 */

export type IssuedHow = 'development' | 'approval' | 'renewal';

export interface CertificateIssuedMailInput extends CertificateFacts {
  /** Development: signed at once; approval: after `/approve`; renewal: on an existing consent. */
  how: IssuedHow;
  /** Who approved, for `approval` (a GitHub login, named as text). */
  approver?: string | undefined;
}

/** A new certificate is ready for download. */
export function certificateIssuedMail(input: CertificateIssuedMailInput): Mail {
  return renderMail(input.supplier, subject(input), [
    firstSentence(input),
    certificateRows(input),
    paragraph`Download the certificate (PEM file) from ${dashboard(input.dashboardUrl)} and install it in your connector together with the private key you created for this CSR. The certificate is valid until ${ours(formatMailDate(input.notAfter))}; you will get a reminder by e-mail before it expires.`,
    ...(input.how === 'renewal'
      ? [
          paragraph`Your previous certificate on this line keeps working until it expires or is disabled, so switch your connector to the new one before then.`,
        ]
      : []),
  ]);
}

function subject(input: CertificateIssuedMailInput): Inline[] {
  const target = words`for ${input.connector} (${input.customerCode})`;
  switch (input.how) {
    case 'development':
      return words`Your Ons API development certificate ${target} is ready`;
    case 'approval':
      return words`Your Ons API certificate ${target} was approved and is ready`;
    case 'renewal':
      return words`Your renewed Ons API certificate ${target} is ready`;
  }
}

function firstSentence(input: CertificateIssuedMailInput): Block {
  const { connector, version, customerCode } = input;
  switch (input.how) {
    case 'development':
      return paragraph`Your CSR for connector ${code(connector)}, version ${code(version)}, on Nedap's development environment (${code(customerCode)}) has been signed at once: development certificates need no approval.`;
    case 'approval': {
      const line = words`connector ${code(connector)}, version ${code(version)}, customer code ${code(customerCode)}`;
      return input.approver?.trim()
        ? paragraph`${input.approver} approved your request for ${line}, on behalf of the healthcare organisation, so your CSR has been signed.`
        : paragraph`The healthcare organisation approved your request for ${line}, so your CSR has been signed.`;
    }
    case 'renewal':
      return paragraph`The healthcare organisation had already given its consent for connector ${code(connector)} and customer code ${code(customerCode)}, so your new CSR for version ${code(version)} has been signed right away, without a ticket.`;
  }
}
