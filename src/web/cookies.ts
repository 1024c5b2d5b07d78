/** The cookies of a `Cookie` request header; a name seen twice keeps its first value. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    const name = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (name && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

export interface CookieOptions {
  /** Seconds; 0 removes the cookie. */
  maxAge: number;
  /** Only over HTTPS: set when PUBLIC_URL is https. */
  secure: boolean;
}

/**
 * A `Set-Cookie` value that scripts cannot read (HttpOnly), that no other site's page or form
 * can make the browser send (SameSite=Strict), for the whole site (Path=/).
 */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  return [
    `${name}=${value}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(options.maxAge))}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

/**
 * The session cookie's name. Over HTTPS it carries the `__Host-` prefix: browsers then accept it
 * only with Secure, Path=/ and no Domain, so a sibling subdomain cannot plant or shadow it.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-ons_certs_session' : 'ons_certs_session';
}
