import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './helpers/database.ts';
import { captureLog } from './helpers/log-capture.ts';

/** What stands for upload bytes and key material: it must never be in a log line. */
const SECRET = `SECRET${randomBytes(8).toString('hex')}`;

/** The error `work` rejects with (it must reject). */
async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('the log never holds SQL parameters, bodies or bytes (real PostgreSQL)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase('postgres');
    await database.handle.db.execute(
      sql`create table upload_probe (body text not null check (length(body) < 5))`,
    );
  });
  afterAll(async () => {
    await database?.drop();
  });

  it.each([
    [
      'a NUL in a text parameter',
      () => sql`insert into upload_probe (body) values (${`${SECRET}\u0000MIIE`})`,
      '22021',
    ],
    ['a value that is not a uuid', () => sql`select ${SECRET}::uuid`, '22P02'],
    [
      'a check that fails on the row (PostgreSQL quotes the row in `detail`)',
      () => sql`insert into upload_probe (body) values (${SECRET})`,
      '23514',
    ],
  ])('a database error over %s logs its code, not the parameter', async (_name, query, code) => {
    const error = await failureOf(() => database.handle.db.execute(query()));
    // The raw error does carry the secret: what the logger gets is dangerous.
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error)) + String(error)).toContain(SECRET);
    const log = captureLog();
    log.logger.error({ err: error, method: 'PUT', path: '/x' }, 'request failed');
    log.logger.error(error as Error);
    log.logger.warn({ error }, 'nested under another key');
    expect(log.text()).not.toContain(SECRET);
    const [entry] = log.entries();
    const err = entry?.['err'] as { type: string; message: string; cause?: { code?: string; type?: string } };
    expect(err.type).toBe('DrizzleQueryError');
    expect(err.message).toBe('Failed query (its SQL and parameters are not logged)');
    expect(err.cause).toMatchObject({ type: 'PostgresError', code });
    expect(JSON.stringify(entry)).not.toMatch(/"(query|params|parameters|where|detail)"/);
  });

  it('drops request bodies that body-parser attaches to its errors, and any Buffer', async () => {
    const app = express();
    app.post('/', express.json(), (_req, res) => {
      res.end();
    });
    const log = captureLog();
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      log.logger.error({ err: error }, 'request failed');
      res.status(400).end();
    });
    const server = app.listen(0);
    try {
      const port = (server.address() as { port: number }).port;
      await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"csr": "${SECRET}`,
      });
    } finally {
      server.close();
    }
    log.logger.info(
      { upload: Buffer.from(SECRET), nested: { bytes: new TextEncoder().encode(SECRET) } },
      'bytes',
    );
    log.logger.info({ body: SECRET, payload: { x: SECRET }, parameters: [SECRET] }, 'fields that name data');
    expect(log.text()).not.toContain(SECRET);
    expect(log.text()).toContain(`[${SECRET.length} bytes, not logged]`);
    expect(log.entries()[0]?.['err']).toMatchObject({ type: 'SyntaxError', status: 400 });
  });

  it("drops what Probot's errors carry: the event payload of a failed verification or handler", () => {
    const failure = Object.assign(
      new Error('[@octokit/webhooks] signature does not match event payload and secret'),
      {
        event: { id: 'd-1', name: 'issues', payload: `{"x":"${SECRET}"}`, signature: 'sha256=00' },
        status: 400,
      },
    );
    const log = captureLog();
    log.logger.error(new AggregateError([failure], failure.message));
    log.logger.child({ name: 'event', id: 'd-1' }).error(failure);
    expect(log.text()).not.toContain(SECRET);
    expect(log.entries()[0]?.['err']).toMatchObject({
      type: 'AggregateError',
      errors: [{ message: failure.message, status: 400 }],
    });
  });

  it('drops what an Octokit error carries: the request body sent and the response', () => {
    const failure = Object.assign(new Error('Validation Failed'), {
      status: 422,
      request: { method: 'POST', url: 'https://api.github.com/repos/o/r/issues/1/comments', body: SECRET },
      response: { status: 422, data: { message: SECRET } },
    });
    const log = captureLog();
    log.logger.error({ err: failure }, 'comment failed');
    expect(log.text()).not.toContain(SECRET);
    expect(log.entries()[0]?.['err']).toMatchObject({
      status: 422,
      request: { method: 'POST', url: 'https://api.github.com/repos/o/r/issues/1/comments' },
    });
  });

  it('takes the values out of a JSON.parse message logged without a message of its own', () => {
    const log = captureLog();
    // V8 quotes the whole input when it is short (and a cut of it otherwise).
    const short = SECRET.slice(6, 18);
    try {
      JSON.parse(`{"a": x${short}}`);
    } catch (error) {
      expect((error as Error).message).toContain(short);
      log.logger.error(error as Error);
    }
    expect(log.text()).not.toContain(short);
    expect(String(log.entries()[0]?.['msg'])).toMatch(/not valid JSON/);
  });
});
