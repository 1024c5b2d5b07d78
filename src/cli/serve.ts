import type { Config } from '../config.ts';
import { createLogger, logDestination } from '../log.ts';
import { startService } from '../main.ts';
import { UsageError } from './output.ts';

/** `ons-certs serve`: runs until SIGINT/SIGTERM, then closes cleanly. */
export async function serve(config: Readonly<Config>, args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`serve takes no arguments (got "${args.join(' ')}")`);
  const log = createLogger(config.logLevel, logDestination(config.logFormat));
  const service = await startService(config, log);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info({ signal }, 'shutting down');
  await service.close();
  return 0;
}
