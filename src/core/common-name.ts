import { classifyCustomerCode, printable } from './customer-code.ts';

/** The parts of a client certificate's CN: `{technical_name}-{customer_code}-{identification}`. */
export interface CommonNameParts {
  technicalName: string;
  customerCode: string;
  identification: string;
}

export type CommonNameResult = { ok: true; parts: CommonNameParts } | { ok: false; problems: string[] };

export const TECHNICAL_NAME = /^[a-z0-9_]+$/;
const IDENTIFICATION = /^[A-Za-z0-9_]+$/;

/**
 * Parses a CN. Never throws; every problem with the form is named so a supplier can fix
 * them all at once. The customer code in a CN is taken as written (no upper-casing): the CN
 * ends up in the certificate and must match the line exactly.
 */
export function parseCommonName(cn: string): CommonNameResult {
  const pieces = cn.split('-');
  if (pieces.length !== 3) {
    const problems = [
      pieces.length < 3
        ? `it has ${pieces.length - 1} dash${pieces.length === 2 ? '' : 'es'} where exactly 2 separate the three parts`
        : `it has ${pieces.length - 1} dashes where exactly 2 separate the three parts; the identification may ` +
          'only contain letters, digits and underscores (use _ instead of -)',
    ];
    return { ok: false, problems };
  }
  const [technicalName = '', customerCode = '', identification = ''] = pieces;
  const problems: string[] = [];
  if (!TECHNICAL_NAME.test(technicalName)) {
    problems.push(
      `the connector name "${printable(technicalName)}" must be the connector's technical name: ` +
        'lower-case letters, digits and underscores',
    );
  }
  if (!classifyCustomerCode(customerCode).ok) {
    problems.push(
      `"${printable(customerCode)}" is not a customer code (TE1002, TE#### for staging, CF####, DF#### or ` +
        'MF#### for production, in capitals)',
    );
  }
  if (!IDENTIFICATION.test(identification)) {
    problems.push(
      `the identification "${printable(identification)}" must be letters, digits and underscores ` +
        '(e.g. production or free_text)',
    );
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, parts: { technicalName, customerCode, identification } };
}
