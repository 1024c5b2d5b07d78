import { DatabaseInUse } from '../db/pglite-lock.ts';
import { RedisUnavailable } from '../queue/redis-availability.ts';
import { ConfigError, loadConfig, readEnvironment, type Config } from '../config.ts';
import { caInit } from './ca-init.ts';
import { csrCheck } from './csr-check.ts';
import { dbMigrate, supplierAdd, versionApprove } from './database-commands.ts';
import { gateway } from './gateway.ts';
import { keyBlock, keyList, keyUnblock } from './key-block.ts';
import { renew } from './renew.ts';
import { serve } from './serve.ts';
import { UsageError, type Output } from './output.ts';

const USAGE = `usage: ons-certs <command>

  serve                                   run the service (what npm start runs)
  worker                                  run the queue workers only (no HTTP), to scale out
  csr check <file> [--connector NAME] [--customer-code CODE] [--json]
                                          check a CSR against the Ons API requirements, weak
                                          keys included (offline: earlier certificates with
                                          the key and blocked keys need the database)
  ca init [--force] [--cn NAME]           create the CA where the configuration says
  db migrate                              apply the database migrations
  supplier add --name N --email E [--github LOGIN ...]
                                          register a supplier; prints its token (once)
  version approve <connector> <version>   approve a connector version
  key block <file> | --spki-sha256 HEX --reason TEXT
                                          refuse CSRs with this public key (key_blocked); the
                                          file is a CSR, certificate or public key, never a
                                          private key
  key unblock <file> | --spki-sha256 HEX --reason TEXT
                                          take a key off the blocked list
  key list                                the blocked keys
  gateway --port P [--upstream URL] [--host H] [--cert FILE --key FILE] [--ca FILE]
          [--crl-url URL] [--crl-refresh-seconds N]
                                          the reference mTLS gateway: client certificates from
                                          our CA that are not on its CRL; GET /ping
  renew --cert FILE --key FILE --url URL [--ca FILE] [--before D] [--exec CMD]
        [--daemon [--interval D]]
                                          renew a client certificate over EST (mTLS) with a
                                          new key once it is due (a third of its lifetime
                                          left, or --before 30d/12h/90m); --exec runs after
                                          a renewal; --daemon checks hourly (SIGHUP: now)

Configuration comes from the environment (and .env); see docs/operating.md.`;

/** Runs one command line; returns the exit code. */
export async function main(argv: string[], output: Output = defaultOutput): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(await config(), rest);
      case 'worker':
        if (rest.length > 0) throw new UsageError(`worker takes no arguments (got "${rest.join(' ')}")`);
        return await serve({ ...(await config()), workers: 'worker' }, []);
      case 'csr':
        if (rest[0] !== 'check') throw new UsageError(`unknown csr command "${rest[0] ?? ''}"`);
        return await csrCheck(rest.slice(1), await config(), output);
      case 'ca':
        if (rest[0] !== 'init') throw new UsageError(`unknown ca command "${rest[0] ?? ''}"`);
        return await caInit(rest.slice(1), await config(), output);
      case 'db':
        if (rest[0] !== 'migrate') throw new UsageError(`unknown db command "${rest[0] ?? ''}"`);
        return await dbMigrate(rest.slice(1), await config(), output);
      case 'supplier':
        if (rest[0] !== 'add') throw new UsageError(`unknown supplier command "${rest[0] ?? ''}"`);
        return await supplierAdd(rest.slice(1), await config(), output);
      case 'version':
        if (rest[0] !== 'approve') throw new UsageError(`unknown version command "${rest[0] ?? ''}"`);
        return await versionApprove(rest.slice(1), await config(), output);
      case 'key':
        if (rest[0] === 'block') return await keyBlock(rest.slice(1), await config(), output);
        if (rest[0] === 'unblock') return await keyUnblock(rest.slice(1), await config(), output);
        if (rest[0] === 'list') return await keyList(rest.slice(1), await config(), output);
        throw new UsageError(`unknown key command "${rest[0] ?? ''}"`);
      case 'gateway':
        return await gateway(rest, await config(), output);
      case 'renew':
        // The client side: runs on the connector's machine, with none of the service's configuration.
        return await renew(rest, output);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        output.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`ons-certs: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof RedisUnavailable || error instanceof DatabaseInUse) {
      output.err(`ons-certs: ${error.message}`);
      return 1;
    }
    if (error instanceof ConfigError) {
      output.err(`ons-certs: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

async function config(): Promise<Readonly<Config>> {
  return loadConfig(readEnvironment());
}

const defaultOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};
