export interface HttpReply<T> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

/**
 * One HTTP call as a user's script makes it: with `Authorization: Bearer <token>` when a token
 * is given; a string body sent as `type`, FormData as multipart, anything else as JSON. The
 * answer's JSON (when it is JSON) comes parsed, its text too.
 */
export async function httpCall<T>(
  url: string,
  verb: string,
  token?: string,
  body?: unknown,
  type = 'text/plain',
): Promise<HttpReply<T>> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let payload: RequestInit['body'];
  if (body instanceof FormData) payload = body;
  else if (typeof body === 'string') [payload, headers['content-type']] = [body, type];
  else if (body !== undefined)
    [payload, headers['content-type']] = [JSON.stringify(body), 'application/json'];
  const response = await fetch(url, { method: verb, headers, body: payload });
  const text = await response.text();
  const json = (/^[[{]/.test(text) ? JSON.parse(text) : undefined) as T;
  return { status: response.status, headers: response.headers, text, json };
}
