/**
 * Where to go after signing in: only a path of this site (`/connectors/...`), never another
 * host (`//evil.example`, `/\evil.example`, `https://...`), so the sign-in page cannot be used
 * to send a supplier elsewhere.
 */
export function localPath(next: unknown, fallback = '/connectors'): string {
  if (typeof next !== 'string' || next.length > 1000) return fallback;
  if (!/^\/(?![/\\])/.test(next)) return fallback;
  // Control characters and backslashes have no business in our paths; browsers read "\" as "/".
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return fallback;
  return next;
}
