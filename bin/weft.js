#!/usr/bin/env node
// weft's command-line entry. weft is TypeScript run by Node's type stripping, which needs Node 24:
// the project pins it (node_modules/.bin/node), which `npx weft` and npm scripts put first on PATH.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`weft needs Node.js 24 or newer (this is ${process.version}). Run it as "npx weft" from the project, which uses the pinned Node 24.\n`);
  process.exit(1);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
