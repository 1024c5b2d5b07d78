/** The kind of environment a customer code stands for (product.md, "Concepts"). */
export type EnvironmentKind = 'development' | 'staging' | 'production';

/** Nedap's own development environment: the one code signed without a ticket. */
export const DEVELOPMENT_CUSTOMER_CODE = 'TE1002';

export type CustomerCodeResult =
  | { ok: true; code: string; kind: EnvironmentKind }
  | { ok: false; code: 'invalid_customer_code'; message: string };

const STAGING = /^TE\d{4}$/;
const PRODUCTION = /^(CF|DF|MF)\d{4}$/;

/** Trims and upper-cases user input, then classifies it. */
export function normaliseCustomerCode(input: string): string {
  return input.trim().toUpperCase();
}

/**
 * Classifies an already normalised code; anything else is `invalid_customer_code`, whose
 * message quotes `typed` (what the user wrote, trimmed; the code itself when not given).
 */
export function classifyCustomerCode(code: string, typed = code): CustomerCodeResult {
  if (code === DEVELOPMENT_CUSTOMER_CODE) return { ok: true, code, kind: 'development' };
  if (STAGING.test(code)) return { ok: true, code, kind: 'staging' };
  if (PRODUCTION.test(code)) return { ok: true, code, kind: 'production' };
  return {
    ok: false,
    code: 'invalid_customer_code',
    message:
      `"${printable(typed)}" is not a customer code: use TE1002 for Nedap's development environment, ` +
      'TE followed by 4 digits for a staging environment (e.g. TE1234), or CF, DF or MF followed by ' +
      '4 digits for a production environment (e.g. CF1234); the healthcare organisation can tell you its code',
  };
}

/** Normalises and classifies user input in one step; a refusal quotes the input as typed. */
export function parseCustomerCode(input: string): CustomerCodeResult {
  return classifyCustomerCode(normaliseCustomerCode(input), input.trim());
}

/** Keeps messages readable and single-line whatever the input held. */
export function printable(value: string, max = 80): string {
  // Control characters (and text-direction overrides) are exactly what must not reach a
  // message, so the pattern names them.
  const flat = value.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g,
    '?',
  );
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
