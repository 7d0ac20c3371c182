#!/usr/bin/env node
// weft's command-line entry. weft is TypeScript run by Node's type stripping, which needs Node 24:
// the project pins it (node_modules/.bin/node), which `npx weft` and npm scripts put first on PATH.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`weft needs Node.js 24 or newer (this is ${process.version}). Run it as "npx weft" from the project, which uses the pinned Node 24.\n`);
  process.exit(1);
}

/**
 * V8 settings for a proxy process: a young generation capped at 1 MB per semi-space. By default V8 grows
 * it to 64 MB under load, and a sidecar's RSS reached ~300 MB; a proxy's per-request garbage dies
 * young, and a scavenge costs about the same whatever the size (its fixed part dominates), so the small
 * one keeps RSS near 130 MB at the same CPU (paired runs with bench/proxy/ab.ts; larger semi-spaces,
 * --heap-growing-percent, --v8-pool-size, --optimize-for-size, --max-opt and MALLOC_ARENA_MAX measured
 * no better). A flag the user set (command line or NODE_OPTIONS) wins.
 */
const PROXY_V8_FLAGS = ['--max-semi-space-size=1'];

/** Re-executes this process (same pid, stdio and environment) with the proxy's V8 flags, unless already set. */
function reexecWithProxyFlags() {
  const given = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  const missing = PROXY_V8_FLAGS.filter((f) => !given.includes(f.split('=')[0]));
  if (missing.length === 0 || typeof process.execve !== 'function') return;
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], process.env);
}

const command = process.argv[2];
if (command === 'proxy' || command === 'gateway') {
  reexecWithProxyFlags();
  // A sidecar runs for long in every workload: it loads only the proxy's modules, and Node's compile
  // cache keeps the type-stripped code so that later starts skip the TypeScript stripper (~18 MB).
  const { enableCompileCache } = await import('node:module');
  enableCompileCache();
  const { proxyMain } = await import('../src/cli/proxy-main.ts');
  process.exitCode = await proxyMain(process.argv);
} else {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv);
}
