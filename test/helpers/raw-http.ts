import { request } from 'node:http';

/** What the server answered to a raw request. */
export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The answer's JSON error codes (`{"errors":[{code}]}`), if it is one. */
  codes: string[];
}

/**
 * One HTTP request with exactly the headers and body bytes given (fetch would add, normalise
 * or refuse some: content-length, content-encoding with a body it did not encode, ...).
 */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string | string[]> = {},
  body?: Buffer | string,
  /** The client's own address (any of 127/8 reaches a loopback server), as a second client. */
  localAddress?: string,
): Promise<RawReply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, headers, agent: false, localAddress },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let codes: string[];
          try {
            const json = JSON.parse(text) as { errors?: { code?: string }[] };
            codes = (json.errors ?? []).map((e) => String(e.code));
          } catch {
            codes = [];
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, codes });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
