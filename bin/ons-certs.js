#!/usr/bin/env node
// The `ons-certs` command: runs the TypeScript sources as they are (see typescript.js), so a
// fresh `npm ci` is all it takes: no build step between a checkout and a running service.
import { enableTypeScript } from './typescript.js';

await enableTypeScript();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
