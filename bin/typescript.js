// How the TypeScript sources run, for bin/ons-certs.js and bin/run-ts.js. There is no build
// step: the `.ts` files under src/ are what runs, so a checkout (and a test that spawns the
// command) can never run a stale build.
// - A Node with built-in type stripping (22.18+, 24, 26: `process.features.typescript`) runs
//   them as they are (tsconfig's erasableSyntaxOnly keeps the sources within what it strips).
//   This is what the Docker image does: no tsx, no esbuild, no install scripts.
// - Node 20 has none: tsx (a devDependency) compiles them as they are imported.
export async function enableTypeScript() {
  if (process.features.typescript) return;
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    console.error(
      `ons-certs: Node ${process.version} cannot run TypeScript by itself and tsx (a devDependency) ` +
        'is not installed. Use Node 24 (or 22.18+), or install the dev dependencies (npm ci).',
    );
    process.exit(1);
  }
  tsx.register();
}
