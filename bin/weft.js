#!/usr/bin/env node
// weft's command-line entry. weft is TypeScript run by Node's type stripping, which needs Node 24:
// the project pins it (node_modules/.bin/node), which `npx weft` and npm scripts put first on PATH.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`weft needs Node.js 24 or newer (this is ${process.version}). Run it as "npx weft" from the project, which uses the pinned Node 24.\n`);
  process.exit(1);
}
const { existsSync } = await import('node:fs');

/**
 * V8 settings for a proxy process.
 * - A young generation capped at 1 MB per semi-space. By default V8 grows it to 64 MB under load, and a
 *   sidecar's RSS reached ~300 MB; a proxy's per-request garbage dies young, and a scavenge costs about
 *   the same whatever the size (its fixed part dominates), so the small one keeps RSS near 130 MB at the
 *   same CPU.
 * - No Maglev (V8's mid-tier compiler): hot code goes from Sparkplug to TurboFan. A sidecar's peak RSS
 *   came from its first second of traffic, when V8 queued Maglev jobs for a few hundred functions at
 *   once (anonymous memory +13.6 MB for ~15 s; +3.7 MB without Maglev). Paired runs (bench/proxy/ab.ts,
 *   3 rounds): peak RSS 90 instead of 105 MB, the same CPU per 1000 rps (0.117/0.103/0.095 against
 *   0.118/0.100/0.103) and p99; HTTP/2 (probe.ts --protocol h2, 2 runs each) peak 92 instead of 107 MB,
 *   0.103-0.108 instead of 0.109-0.114 vCPU; maximum throughput (max-ab.ts) 40,521 against 40,949 rps
 *   median (when weft still ran on node:http and undici, no Maglev cost 9% of it). Maglev's quick
 *   tier-up suits short-lived pages more than a process that serves for days; in Maglev code a private
 *   field access was also a generic keyed access, 4x a public one.
 * - No memory reducer (V8's idle-time heap shrinking). After a quiet spell it ran memory-reducing
 *   collections that made the next traffic pay: two-hop runs of 10 s at 1000 rps after 40 s of idleness
 *   (bench/proxy shape, 16 connections, 5 after-idle runs per variant, twice) cost 0.110–0.125 vCPU per
 *   1000 rps with p99 4.3–5.9 ms in every second run, against 0.089–0.096 and 2.1–2.4 ms in all of them
 *   without it (a sidecar's idle-after-load anonymous memory ~2.5 MB higher: 33–34 instead of 31.7 MB;
 *   under load the same). A sidecar's traffic comes and goes; BENCHMARKS.md's weft rows follow idle
 *   spells (the nginx and HAProxy rows run in between), which is where its figures read higher than a
 *   weft-only run's. glibc's malloc instead of jemalloc showed the same pattern: not the allocator.
 * Measured with paired runs (each variant with its compile cache warmed: the cache is keyed by V8's
 * flags, and a cold one loads the TypeScript stripper, see restartIfStripped); larger semi-spaces,
 * --heap-growing-percent, --v8-pool-size, --optimize-for-size, --max-opt, --single-threaded-gc (+22 MB),
 * fewer concurrent compiler threads and MALLOC_ARENA_MAX measured no better. --no-concurrent-recompilation
 * also avoids the peak (89 MB) but compiles on the main thread: HTTP/2's settled p99 went from 23-28 to
 * 58-64 ms and a cold start's p99 from 70 to 124 ms. A flag the user set (command line or NODE_OPTIONS) wins.
 */
const PROXY_V8_FLAGS = ['--max-semi-space-size=1', '--no-maglev', '--no-memory-reducer'];

/**
 * The control plane's: a young generation of at most 4 MB per semi-space, and glibc's allocator told to
 * keep at most two arenas and hand freed memory back. Pushes to a thousand proxies allocate and drop
 * many small buffers; with the defaults, RSS after the initial sync of 300 proxies × 1,000 services was
 * ~440 MB, with these ~265 MB (bench:control, same run). Environment variables the user set win.
 * `--expose-gc` lets the control plane run full collections when it is quiet (src/control/idle-gc.ts)
 * instead of in the middle of the next push.
 */
const CONTROL_V8_FLAGS = ['--max-semi-space-size=4', '--expose-gc'];
const CONTROL_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072', MALLOC_MMAP_THRESHOLD_: '131072' };

/**
 * A proxy's memory allocator: jemalloc when the system has it (Debian and Ubuntu: `apt-get install
 * libjemalloc2`), preloaded into the re-executed process, as Envoy links tcmalloc. With glibc's malloc
 * a sidecar under load kept ~12 MB of freed memory that glibc never hands back: the V8 compiler's
 * scratch memory from the first seconds of traffic, scattered between live blocks (malloc_trim, which
 * Node cannot call, released it); jemalloc returns unused pages to the system within seconds. Measured
 * with paired runs (bench/proxy/ab.ts, HTTP/1.1 at 1000 rps): anonymous memory 47-54 MB with glibc,
 * 35-42 MB with jemalloc, same CPU; HTTP/2 (probe.ts --protocol h2) 78-80 -> 59-63 MB, p99 22-27 -> 15-17 ms.
 * `WEFT_MALLOC=system` keeps glibc's, `WEFT_MALLOC=jemalloc` insists on jemalloc, and an LD_PRELOAD the
 * user set wins. Not the control plane's: at 2,000 proxies x 1,000 services it peaked at 356 MB on
 * jemalloc against 290 MB on the tuned glibc below (bench:control, same machine, back to back).
 */
function allocatorEnv() {
  const wanted = process.env.WEFT_MALLOC ?? 'auto';
  if (!['auto', 'jemalloc', 'system'].includes(wanted)) {
    process.stderr.write(`weft: WEFT_MALLOC=${wanted} is not an allocator weft knows; use jemalloc, system, or leave it unset (jemalloc when installed)\n`);
    process.exit(2);
  }
  if (wanted === 'system' || process.env.LD_PRELOAD !== undefined) return {};
  if (process.platform !== 'linux') {
    if (wanted === 'jemalloc') {
      process.stderr.write(`weft: WEFT_MALLOC=jemalloc works on Linux only (it preloads the library); this is ${process.platform}\n`);
      process.exit(2);
    }
    return {};
  }
  const triplet = { x64: 'x86_64', arm64: 'aarch64' }[process.arch];
  const dirs = [triplet && `/usr/lib/${triplet}-linux-gnu`, '/usr/lib64', '/usr/lib', '/usr/local/lib'].filter(Boolean);
  const found = dirs.map((d) => `${d}/libjemalloc.so.2`).find((p) => existsSync(p));
  // WEFT_PRELOADED_MALLOC tells `weft run` what to take out of its app's environment again.
  if (found !== undefined) return { LD_PRELOAD: found, WEFT_PRELOADED_MALLOC: found };
  if (wanted === 'jemalloc') {
    process.stderr.write(`weft: WEFT_MALLOC=jemalloc but libjemalloc.so.2 is in none of ${dirs.join(', ')}; install it (Debian: apt-get install libjemalloc2) or set LD_PRELOAD to it\n`);
    process.exit(2);
  }
  return {};
}

/** Re-executes this process (same pid and stdio) with V8 flags and environment, unless already set. */
function reexecWith(flags, env = {}) {
  // A V8 flag's name without its value or "no-" (a user's --foo overrides our --no-foo), in one spelling.
  const nameOf = (f) => f.split('=')[0].replace(/^--(no-)?/, '').replaceAll('_', '-');
  const given = new Set(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`.split(/\s+/).filter((f) => f.startsWith('--')).map(nameOf));
  const missing = flags.filter((f) => !given.has(nameOf(f)));
  const unset = Object.keys(env).filter((k) => process.env[k] === undefined);
  if ((missing.length === 0 && unset.length === 0) || typeof process.execve !== 'function') return;
  const nextEnv = { ...process.env, ...Object.fromEntries(unset.map((k) => [k, env[k]])) };
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], nextEnv);
}

/**
 * A cold compile cache (the first start after an install or a code change) made Node load its
 * TypeScript stripper, which then stays for the life of the process (an idle sidecar's anonymous memory
 * ~51 MB instead of ~27, the control plane's ~65 instead of ~53). Writes the cache and starts over from it, once, in place (same pid): the
 * sidecar then runs without the stripper, and only a cold start pays the extra ~0.15 s.
 */
function restartIfStripped(cacheWritable, flush) {
  const restarted = process.env.WEFT_COMPILE_CACHE_RESTART !== undefined;
  delete process.env.WEFT_COMPILE_CACHE_RESTART;
  if (restarted || !cacheWritable || typeof process.execve !== 'function') return;
  if (!process.moduleLoadList.includes('NativeModule internal/deps/amaro/dist/index')) return;
  flush();
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, WEFT_COMPILE_CACHE_RESTART: '1' });
}

const command = process.argv[2];
// The processes that are a sidecar or gateway: `weft run` runs its workload's sidecar in itself.
const proxyProcess = command === 'proxy' || command === 'gateway' || command === 'run';
if (command === 'control') reexecWith(CONTROL_V8_FLAGS, CONTROL_ENV);
if (proxyProcess) reexecWith(PROXY_V8_FLAGS, allocatorEnv());
// Node's compile cache keeps the type-stripped, compiled code, so that later starts skip the
// TypeScript stripper; the long-running processes (a sidecar in every workload, the control plane)
// start over from it when it was cold.
const { enableCompileCache, flushCompileCache, constants } = await import('node:module');
const cache = enableCompileCache();
const cacheWritable = cache.status === constants.compileCacheStatus.ENABLED || cache.status === constants.compileCacheStatus.ALREADY_ENABLED;
if (proxyProcess) {
  // A sidecar loads only the proxy's modules.
  const { proxyMain } = await import('../src/cli/proxy-main.ts');
  restartIfStripped(cacheWritable, flushCompileCache);
  process.exitCode = await proxyMain(process.argv);
} else {
  const { main } = await import('../src/cli/main.ts');
  if (command === 'control') restartIfStripped(cacheWritable, flushCompileCache);
  process.exitCode = await main(process.argv);
}
