/**
 * How a sidecar process starts (its memory depends on it): `weft proxy` loads the proxy's modules and
 * nothing of the config API, control plane or their libraries, no Node built-in it does not use
 * (Node's bundled undici comes along with an ES import of `node:http`; node:http2 would bring node:tls;
 * node:crypto is not needed for random bytes),
 * and bin/weft.js re-executes it in place with the proxy's V8 flags unless the user set them, and once
 * more after a start from a cold compile cache (which loads Node's TypeScript stripper for good).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'weft.js');
/** Whether this machine has jemalloc where bin/weft.js looks for it (then proxies must run on it). */
const JEMALLOC_INSTALLED = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'].some((d) => existsSync(`${d}/libjemalloc.so.2`));

/** Every module URL and Node built-in that importing `entry` loads, from a fresh process. */
function loadedBy(entry: string): { urls: string[]; builtins: string[] } {
  const script = `
    import { registerHooks } from 'node:module';
    const urls = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); urls.push(r.url); return r; } });
    const before = new Set(process.moduleLoadList);
    await import(${JSON.stringify(pathToFileURL(entry).href)});
    process.stdout.write(JSON.stringify({ urls, builtins: process.moduleLoadList.filter((m) => !before.has(m)) }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as { urls: string[]; builtins: string[] };
}

/** Starts `weft proxy` (or `command`; no control plane: it keeps retrying), waits for its admin server, stops it. */
async function startProxy(env: Record<string, string>, nodeArgs: string[] = [], command = 'proxy', rest: string[] = []): Promise<{ cmdline: string[]; environ: string[]; anonKB: number; allocator: string; maps: string }> {
  const child = spawn(process.execPath, [...nodeArgs, BIN, command, '--control', '127.0.0.1:9', '--name', 'startup', '--ip', '127.0.0.1', '--admin-port', '0', '--health-port', '0', '--prometheus-port', '0', ...rest], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('admin http://')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`weft proxy exited (${code}):\n${err}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    // The environment the process image last started with (execve), not later changes.
    const environ = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0');
    const anonKB = Number(/RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN);
    const maps = readFileSync(`/proc/${child.pid}/maps`, 'utf8');
    const admin = /admin (http:\/\/[^\s,]+)/.exec(err)?.[1];
    const { allocator } = (await (await fetch(`${admin}/memory`)).json()) as { allocator: string };
    return { cmdline, environ, anonKB, allocator, maps };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

describe('weft proxy startup', () => {
  it('loads the proxy and nothing of the config API, the control plane or libraries it does not use', () => {
    const { urls, builtins } = loadedBy(join(ROOT, 'src', 'cli', 'proxy-main.ts'));
    assert.ok(urls.some((u) => u.endsWith('/src/proxy/proxy.ts')), 'the proxy itself is loaded');
    assert.ok(urls.some((u) => u.endsWith('/src/proxy/upstream/http1/pool.ts')), 'weft\'s HTTP/1.1 pool is loaded');
    assert.ok(urls.some((u) => u.endsWith('/src/cli/run.ts')), '`weft run` (a sidecar too) has the same lean entry');
    const unwanted = [
      '/src/api/', '/src/control/', '/src/registry/', '/src/analysis/',
      '/node_modules/zod/', '/node_modules/yaml/', '/node_modules/js-yaml/', '/node_modules/re2js/',
      '/node_modules/fastest-levenshtein/',
      // Both HTTP/1.1 and HTTP/2 upstreams run on weft's own codecs; undici's types only are used.
      '/node_modules/undici/',
    ];
    assert.deepEqual(urls.filter((u) => unwanted.some((part) => u.includes(part))), []);
    assert.deepEqual(builtins.filter((b) => /internal\/deps\/undici|internal\/crypto\/webcrypto/.test(b)), []);
    // The xDS client's gRPC runs on weft's HTTP/2 codec: node:http2 would bring node:tls and OpenSSL's TLS
    // start-up. Random bytes come from the kernel (core/random.ts): node:crypto costs ~1.4 MB.
    assert.deepEqual(builtins.filter((b) => /^NativeModule (http2|tls|_tls_\w+|crypto|internal\/(http2|tls|crypto)\/.*)$|^Internal Binding (http2|tls_wrap|crypto)$/.test(b)), []);
  });

  it('re-executes a proxy in place with its V8 flags, and keeps a flag the user set', { skip: process.platform !== 'linux' }, async () => {
    const own = (await startProxy({})).cmdline;
    assert.ok(own.includes('--max-semi-space-size=1') && own.includes('--no-maglev') && own.includes('--no-memory-reducer'), `flags in ${own.join(' ')}`);
    assert.ok(own.includes(BIN), 'the same pid now runs bin/weft.js with the flags');
    const user = (await startProxy({ NODE_OPTIONS: '--max-semi-space-size=4' })).cmdline;
    assert.ok(!user.includes('--max-semi-space-size=1'), `the user's setting wins: ${user.join(' ')}`);
    const spelled = (await startProxy({}, ['--max_semi_space_size=2'])).cmdline;
    assert.ok(!spelled.includes('--max-semi-space-size=1'), `V8's underscore spelling counts as the user's setting: ${spelled.join(' ')}`);
    const maglev = (await startProxy({}, ['--maglev'])).cmdline;
    assert.ok(maglev.includes('--maglev') && !maglev.includes('--no-maglev'), `a user's --maglev beats our --no-maglev: ${maglev.join(' ')}`);
  });

  it('runs a proxy on jemalloc when the system has it, on glibc\'s malloc when told, and names the allocator in /memory', { skip: process.platform !== 'linux' }, async () => {
    const auto = await startProxy({});
    assert.equal(auto.allocator, JEMALLOC_INSTALLED ? 'jemalloc' : 'glibc');
    assert.equal(/libjemalloc/.test(auto.maps), JEMALLOC_INSTALLED, 'the preloaded library is mapped');
    const system = await startProxy({ WEFT_MALLOC: 'system' });
    assert.equal(system.allocator, 'glibc');
    assert.ok(!system.environ.some((e) => e.startsWith('LD_PRELOAD=')), 'nothing preloaded');
    const bad = spawnSync(process.execPath, [BIN, 'proxy', '--control', '127.0.0.1:9', '--name', 'x'], { env: { ...process.env, WEFT_MALLOC: 'tcmalloc' }, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /WEFT_MALLOC=tcmalloc is not an allocator weft knows; use jemalloc, system/);
  });

  it('gives `weft run`, whose process is the sidecar, the proxy\'s V8 flags and allocator', { skip: process.platform !== 'linux' }, async () => {
    const run = await startProxy({}, [], 'run', ['--', process.execPath, '-e', '0']);
    assert.ok(run.cmdline.includes('--max-semi-space-size=1'), `flags in ${run.cmdline.join(' ')}`);
    assert.equal(run.allocator, JEMALLOC_INSTALLED ? 'jemalloc' : 'glibc');
  });

  it('starts over once from a cold compile cache, so that the TypeScript stripper does not stay in the sidecar', { skip: process.platform !== 'linux' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-compile-cache-'));
    try {
      const cold = await startProxy({ NODE_COMPILE_CACHE: dir });
      assert.ok(cold.environ.includes('WEFT_COMPILE_CACHE_RESTART=1'), 'a cold cache: written, then the same pid started over from it');
      const warm = await startProxy({ NODE_COMPILE_CACHE: dir });
      assert.ok(!warm.environ.includes('WEFT_COMPILE_CACHE_RESTART=1'), 'a warm cache: no second start');
      rmSync(dir, { recursive: true, force: true });
      // What the restart saves: the same cold start without it keeps the stripper (~24 MB here).
      const kept = await startProxy({ NODE_COMPILE_CACHE: dir, WEFT_COMPILE_CACHE_RESTART: '1' });
      assert.ok(cold.anonKB < kept.anonKB - 8_000, `anonymous memory ${cold.anonKB} kB after the restart vs ${kept.anonKB} kB with the stripper`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
