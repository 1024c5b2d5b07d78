import { BodyError } from './body-errors.ts';

/**
 * A JSON route's body that is not a JSON object: 400 `invalid_json` (a BodyError, answered by
 * the API's error handler) with what is wrong, never with the body itself.
 */
const INVALID_JSON = { status: 400, code: 'invalid_json' } as const;

/** A valid JSON body that is an array, a string, a number, true/false or null. */
export function notAnObject(): BodyError {
  return new BodyError({ ...INVALID_JSON, message: 'the body must be a JSON object ({"name": value, ...})' });
}

/**
 * What JSON.parse said, fit to show: V8's "<problem> in JSON at position N" and "Unexpected end
 * of JSON input" are fixed texts and a number; its "Unexpected token 'x', "…" is not valid JSON"
 * quotes up to 10 characters of the body, so only a printable token character is kept of it.
 * Anything else is not shown.
 */
export function jsonParseProblem(message: string): string {
  const positioned = /^([A-Za-z ',{}[\]:"-]{1,80} in JSON at position \d{1,6})/.exec(message);
  if (positioned) return positioned[1]!;
  if (message.startsWith('Unexpected end of JSON input'))
    return 'Unexpected end of JSON input (it is cut off)';
  const token = /^Unexpected token '([\x21-\x7e])'/.exec(message);
  if (token) return `Unexpected token '${token[1]!}'`;
  return 'it could not be parsed';
}

/** The error for a body JSON.parse refused. */
export function invalidJson(error: unknown): BodyError {
  const message = error instanceof Error ? error.message : '';
  return new BodyError({
    ...INVALID_JSON,
    message: `the body is not valid JSON: ${jsonParseProblem(message)}`,
  });
}
