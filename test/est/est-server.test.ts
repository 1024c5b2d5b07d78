import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEstServer, type RunningEstServer } from '../../src/est/est-server.ts';
import { createLogger } from '../../src/log.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { freshDatabase, type TestDatabase } from '../helpers/database.ts';
import { CA_PEM, SERVER_CERT, SERVER_KEY } from '../helpers/gateway.ts';
import { testContext } from '../helpers/services.ts';

/** A TLS connection to the listener that sends `request` and collects what comes back. */
function connect(port: number, ca: string) {
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca });
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return {
    socket,
    ready: new Promise<void>((resolve) => socket.once('secureConnect', () => resolve())),
    closed,
    received: () => received,
  };
}

describe('the EST listener shuts down gracefully', () => {
  let testDb: TestDatabase;
  let ctx: ServiceContext;
  let ca: string;
  const start = async (): Promise<RunningEstServer> =>
    startEstServer({
      port: 0,
      host: '127.0.0.1',
      cert: await readFile(SERVER_CERT),
      key: await readFile(SERVER_KEY),
      services: ctx,
      log: createLogger('silent'),
      closeGraceMs: 3000,
    });

  beforeAll(async () => {
    testDb = await freshDatabase('pglite');
    ctx = await testContext(testDb.handle, { minRsaBits: 2048 });
    ca = await readFile(CA_PEM, 'utf8');
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  it('ends idle keep-alive connections at once, and lets a request in progress finish first', async () => {
    const server = await start();
    const idle = connect(server.port, ca);
    await idle.ready;
    idle.socket.write('GET /.well-known/est/cacerts HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const busy = connect(server.port, ca);
    await busy.ready;
    // Half a request: headers and part of the body.
    busy.socket.write(
      'POST /.well-known/est/simplereenroll HTTP/1.1\r\nHost: localhost\r\n' +
        'Content-Type: application/pkcs10\r\nContent-Length: 8\r\n\r\nMIIB',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(idle.received()).toMatch(/^HTTP\/1\.1 200/);

    const began = Date.now();
    const closing = server.close();
    await idle.closed;
    expect(Date.now() - began).toBeLessThan(1000);
    // The request in progress is still answered (no client certificate: 401), then it closes.
    busy.socket.write('AAAA');
    await closing;
    await busy.closed;
    expect(busy.received()).toMatch(/^HTTP\/1\.1 401/);
    expect(busy.received()).toContain('client_certificate_required');
    expect(Date.now() - began).toBeLessThan(3000);
  });

  it('ends a connection that never finishes its request after the grace period', async () => {
    const server = await start();
    const stuck = connect(server.port, ca);
    await stuck.ready;
    stuck.socket.write(
      'POST /.well-known/est/simplereenroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/pkcs10\r\nContent-Length: 100\r\n\r\nMI',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const began = Date.now();
    await server.close();
    await stuck.closed;
    expect(Date.now() - began).toBeGreaterThanOrEqual(2900);
    expect(Date.now() - began).toBeLessThan(5000);
  });
});
