/** What a page request answered. */
export interface PageReply {
  status: number;
  headers: Headers;
  html: string;
  /** Where a redirect goes (the Location header), if it is one. */
  location: string | null;
}

/**
 * A browser without a browser: keeps the session cookie, reads CSRF tokens from pages, never
 * follows redirects (the tests look at them).
 */
export class PageClient {
  cookie: string | undefined;
  /** The CSRF token of the last page that had a form. */
  csrf: string | undefined;
  readonly base: string;

  constructor(base: string) {
    this.base = base;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<PageReply> {
    return this.send(path, { method: 'GET', headers });
  }

  /** Sends a plain form; `_csrf` is added from the last page unless `fields` sets it (or `csrf: false`). */
  async post(path: string, fields: Record<string, string>, options: { csrf?: boolean } = {}) {
    const body = new URLSearchParams(this.withCsrf(fields, options.csrf ?? true));
    return this.send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
  }

  /** Sends a form with the file input `csr`, as a browser does. */
  async upload(path: string, csr: string | Buffer, options: { csrf?: boolean } = {}) {
    const form = new FormData();
    for (const [name, value] of Object.entries(this.withCsrf({}, options.csrf ?? true)))
      form.append(name, value);
    form.append('csr', new Blob([csr], { type: 'application/pkcs10' }), 'client.csr');
    return this.send(path, { method: 'POST', body: form });
  }

  /** Signs in with a supplier token through the sign-in form. */
  async signIn(token: string): Promise<PageReply> {
    await this.get('/login');
    const reply = await this.post('/login', { token });
    if (reply.status !== 303) throw new Error(`sign-in failed: ${reply.status}`);
    return reply;
  }

  private withCsrf(fields: Record<string, string>, csrf: boolean): Record<string, string> {
    return csrf && this.csrf && !('_csrf' in fields) ? { _csrf: this.csrf, ...fields } : fields;
  }

  private async send(path: string, init: RequestInit): Promise<PageReply> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set('cookie', this.cookie);
    const response = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
    const set = response.headers.getSetCookie()[0];
    if (set) {
      const pair = set.split(';')[0]!;
      this.cookie = /Max-Age=0/.test(set) ? undefined : pair;
    }
    const html = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (token) this.csrf = token;
    return {
      status: response.status,
      headers: response.headers,
      html,
      location: response.headers.get('location'),
    };
  }
}

/** The session cookie's value in a client (for tampering with it). */
export function cookieValue(client: PageClient): string {
  return client.cookie?.slice(client.cookie.indexOf('=') + 1) ?? '';
}
