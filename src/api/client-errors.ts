import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** How long, and how much, a connection is still read after answering a request that is not HTTP. */
const DRAIN_MS = 1000;
const DRAIN_BYTES = 1024 * 1024;

const ANSWERS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'the request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'the request did not arrive in time'],
};
const MALFORMED: [number, string, string] = [
  400,
  'malformed_request',
  'the request is not valid HTTP/1.1 (e.g. a body without Content-Length or chunked encoding)',
];

/**
 * Answers what Node's HTTP parser refuses (bytes after a request without a length, broken
 * headers) with a JSON error like every other answer, then reads and drops what the client
 * still sends for a moment before closing. Node 24's own answer closes at once: a client still
 * sending then gets a connection reset instead of the 400 (Node 20 let it read the answer).
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Bytes already written mean an answer went out (or is going): a second one would only
    // confuse the client, so such a connection just closes.
    const written = (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0;
    const answering = (
      socket as Duplex & { _httpMessage?: { headersSent?: boolean; req?: { method?: string } } }
    )._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || written > 0 || answering?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, code, message] = ANSWERS[error.code ?? ''] ?? MALFORMED;
    // The bytes after a HEAD request's headers are what broke it: its answer has no body.
    const body = answering?.req?.method === 'HEAD' ? '' : JSON.stringify({ errors: [{ code, message }] });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    let drained = 0;
    const timer = setTimeout(() => socket.destroy(), DRAIN_MS);
    timer.unref();
    socket.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_BYTES) socket.destroy();
    });
    socket.on('close', () => clearTimeout(timer));
    socket.on('error', () => socket.destroy());
    socket.resume();
  });
}
