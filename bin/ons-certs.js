#!/usr/bin/env node
// The `ons-certs` command. The sources are TypeScript run through tsx, so a fresh
// `npm ci` is all it takes: no build step between a checkout and a running service.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
