import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { CA_DIR, openssl, ROOT } from '../helpers/fixtures.ts';
import {
  CA_PEM_PATH,
  certsOnly,
  issueClient,
  signWithTestCa,
  snapshot,
  startStandIn,
  type ClientFiles,
  type StandInHandler,
} from '../helpers/renewal.ts';

let handler: StandInHandler;
let standIn: Awaited<ReturnType<typeof startStandIn>>;
let fresh: ClientFiles;

beforeAll(async () => {
  standIn = await startStandIn((request) => handler(request));
  fresh = await issueClient();
});
afterAll(() => standIn.close());

const honest: StandInHandler = async (request) => ({
  status: 200,
  type: 'application/pkcs7-mime; smime-type=certs-only',
  body: await certsOnly([await signWithTestCa(request.body)]),
});

const renew = (args: string[]) => runCli(['renew', ...args], {});
const pair = (files: ClientFiles) => ['--cert', files.cert, '--key', files.key];

describe('ons-certs renew: usage and files (exit 2)', () => {
  it.each([
    [['--key', 'k', '--url', 'https://x'], /renew needs --cert/],
    [['--cert', 'c', '--key', 'k'], /renew needs --url/],
    [['--cert', 'c', '--key', 'k', '--url', 'http://certs.example:8443'], /--url must be https:\/\//],
    [['--cert', 'c', '--key', 'k', '--url', 'not a url'], /is not a URL/],
    [
      ['--cert', 'c', '--key', 'k', '--url', 'https://x', '--before', '30'],
      /--before: "30" is not a duration: .*30d, 12h, 90m/,
    ],
    [
      ['--cert', 'c', '--key', 'k', '--url', 'https://x', '--interval', '1h'],
      /--interval goes with --daemon/,
    ],
    [['--cert', 'c', '--key', 'k', '--url', 'https://x', '--force'], /Unknown option '--force'/],
  ])('%j', async (args, message) => {
    const result = await renew(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('usage: ons-certs');
  });

  it("names a file it cannot read, a key that is not the certificate's, and an unreadable --ca", async () => {
    const other = await issueClient();
    const before = await snapshot(fresh.dir);
    const url = ['--url', 'https://localhost:1'];
    const missing = await renew(['--cert', join(fresh.dir, 'nope.pem'), '--key', fresh.key, ...url]);
    expect(missing).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/cannot read .*nope\.pem: ENOENT/),
    });
    const mismatch = await renew(['--cert', fresh.cert, '--key', other.key, ...url]);
    expect(mismatch).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/client\.key is not the key of .*client\.pem/),
    });
    const notCert = await renew(['--cert', fresh.key, '--key', fresh.key, ...url]);
    expect(notCert).toMatchObject({ code: 2, stderr: expect.stringMatching(/holds no PEM certificate/) });
    const ca = await renew([...pair(fresh), ...url, '--ca', join(fresh.dir, 'ca.pem')]);
    expect(ca).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/cannot read --ca .*ca\.pem: ENOENT/),
    });
    expect(await snapshot(fresh.dir)).toStrictEqual(before);
  });
});

describe('ons-certs renew: not due', () => {
  it('exits 0, says when it will be due, sends nothing and writes nothing', async () => {
    const before = await snapshot(fresh.dir);
    const count = standIn.requests.length;
    const result = await renew([...pair(fresh), '--url', standIn.url, '--ca', CA_PEM_PATH]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /client\.pem: not due for renewal; it expires on \d{4}-.*Z \(in 36[45] days\); renewal is due from \d{4}-.*Z \(in 2[0-9]{2} days\)/,
    );
    expect(standIn.requests.length).toBe(count);
    expect(await snapshot(fresh.dir)).toStrictEqual(before);
  });

  it('--before 30d is not due for a year-long certificate either', async () => {
    const result = await renew([...pair(fresh), '--url', standIn.url, '--before', '30d']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/not due .*renewal is due from .*\(in 33[45] days\)/);
  });
});

describe('ons-certs renew: a renewal (against an EST stand-in)', () => {
  it('renews with --before, runs --exec, and a second run does nothing', async () => {
    handler = honest;
    const files = await issueClient();
    const old = await readFile(files.cert, 'utf8');
    const marker = join(files.dir, 'reloaded');
    const args = [...pair(files), '--url', standIn.url, '--ca', CA_PEM_PATH, '--before', '400d'];
    const result = await renew([...args, '--exec', `echo "reloaded $PPID" > '${marker}'`]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /client\.pem: renewed; serial [0-9a-f]{32}, valid until .*; the previous pair is kept as .*client\.pem\.previous and .*client\.key\.previous/,
    );
    expect(result.stdout).toContain('running --exec: echo');
    expect(await readFile(marker, 'utf8')).toMatch(/^reloaded \d+\n$/);
    expect(await readFile(`${files.cert}.previous`, 'utf8')).toBe(old);
    const renewed = new X509Certificate(await readFile(files.cert));
    expect(renewed.subject).toBe(new X509Certificate(old).subject);
    expect(renewed.publicKey.asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect((await openssl(['verify', '-CAfile', CA_PEM_PATH, files.cert])).output).toContain(': OK');

    // Due again only with a --before longer than the new certificate's whole life.
    const count = standIn.requests.length;
    const second = await renew([
      ...pair(files),
      '--url',
      standIn.url,
      '--ca',
      CA_PEM_PATH,
      '--before',
      '30d',
    ]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('not due for renewal');
    expect(standIn.requests.length).toBe(count);
  });

  it('an --exec that fails exits 1 and says so, but the files stay renewed', async () => {
    handler = honest;
    const files = await issueClient();
    const old = await readFile(files.cert, 'utf8');
    const result = await renew([
      ...pair(files),
      '--url',
      standIn.url,
      '--ca',
      CA_PEM_PATH,
      '--before',
      '400d',
      '--exec',
      'exit 3',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('renewed');
    expect(result.stderr).toMatch(/--exec failed \(exit code 3\): the new certificate and key are installed/);
    expect(await readFile(files.cert, 'utf8')).not.toBe(old);
  });

  it.each([
    [
      'certificate_disabled',
      /certificate_disabled: the certificate was disabled \(leaked\?\): upload a new CSR on the dashboard/,
    ],
    ['no_consent', /no_consent: the organisation's consent/],
  ])('a %s refusal exits 1 with what to do, runs no --exec and writes nothing', async (code, message) => {
    handler = async () => ({
      status: 403,
      type: 'application/json',
      body: JSON.stringify({ errors: [{ code, message: 'no' }] }),
    });
    const files = await issueClient();
    const before = await snapshot(files.dir);
    const marker = join(files.dir, 'ran');
    const result = await renew([
      ...pair(files),
      '--url',
      standIn.url,
      '--ca',
      CA_PEM_PATH,
      '--before',
      '400d',
      '--exec',
      `touch '${marker}'`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/renewal of .*client\.pem failed, nothing was written: /);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('— server: no');
    expect(await snapshot(files.dir)).toStrictEqual(before);
  });

  it('the wrong --ca is a TLS refusal that says to fix --ca', async () => {
    const files = await issueClient();
    const result = await renew([
      ...pair(files),
      '--url',
      standIn.url,
      '--ca',
      join(CA_DIR, 'other-ca.pem'),
      '--before',
      '400d',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/tls_untrusted: .*pass --ca .*\(wrong --ca\?\)/);
  });
});

describe('ons-certs renew --daemon', () => {
  it('checks at start, renews on SIGHUP, and stops cleanly on SIGTERM', async () => {
    handler = honest;
    const files = await issueClient();
    const old = await readFile(files.cert, 'utf8');
    const child = spawn(
      process.execPath,
      ['bin/ons-certs.js', 'renew', ...pair(files), '--url', standIn.url, '--ca', CA_PEM_PATH, '--daemon'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 300 && !pattern.test(stdout); i++) await new Promise((r) => setTimeout(r, 100));
      expect(stdout).toMatch(pattern);
    };
    try {
      await waitFor(/not due for renewal[\s\S]*next check in 1 h/);
      child.kill('SIGHUP');
      await waitFor(/SIGHUP: renewing now[\s\S]*client\.pem: renewed/);
      await waitFor(/renewed[\s\S]*next check in 1 h/);
      expect(await readFile(files.cert, 'utf8')).not.toBe(old);
      expect(await readFile(`${files.cert}.previous`, 'utf8')).toBe(old);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stdout).toContain('SIGTERM: stopping');
      expect(stderr).toBe('');
      expect(Object.keys(await snapshot(files.dir))).toStrictEqual([
        'client.key',
        'client.key.previous',
        'client.pem',
        'client.pem.previous',
      ]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('stops with exit 2 when the files cannot be used at the start', async () => {
    const result = await renew([
      '--cert',
      join(fresh.dir, 'nope.pem'),
      '--key',
      fresh.key,
      '--url',
      standIn.url,
      '--daemon',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read .*nope\.pem/);
  });
});

// A file that is there but cannot be read by this user (root reads anything: skipped then).
it.skipIf(process.getuid?.() === 0)('an unreadable key file is exit 2', async () => {
  const files = await issueClient();
  await writeFile(files.key, 'x', { mode: 0o000 });
  const result = await renew([...pair(files), '--url', 'https://localhost:1']);
  expect(result).toMatchObject({
    code: 2,
    stderr: expect.stringMatching(/cannot read .*client\.key: EACCES/),
  });
});
