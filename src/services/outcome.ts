/** An expected failure: a stable code and a message that says what to do. */
export interface Failure {
  code: string;
  message: string;
}

/** What a service call produced: a value, or every reason it could not. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; failures: Failure[] };

export const success = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const failure = (code: string, message: string): { ok: false; failures: Failure[] } => ({
  ok: false,
  failures: [{ code, message }],
});
export const notFound = (what: string) => failure('not_found', `${what} does not exist`);
