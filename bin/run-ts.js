#!/usr/bin/env node
// Runs one TypeScript file the way bin/ons-certs.js runs the service (used by `npm run bench`).
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { enableTypeScript } from './typescript.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: run-ts.js <file.ts> [args...]');
  process.exit(2);
}
await enableTypeScript();
await import(pathToFileURL(resolve(file)).href);
