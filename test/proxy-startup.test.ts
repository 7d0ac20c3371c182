/**
 * How a sidecar process starts (its memory depends on it): `weft proxy` loads the proxy's modules and
 * nothing of the config API, control plane or their libraries, no Node built-in it does not use
 * (Node's bundled undici and WebCrypto come along with ES imports of `node:http` and `node:crypto`),
 * and bin/weft.js re-executes it in place with the proxy's V8 flags unless the user set them.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'weft.js');

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

describe('weft proxy startup', () => {
  it('loads the proxy and nothing of the config API, the control plane or libraries it does not use', () => {
    const { urls, builtins } = loadedBy(join(ROOT, 'src', 'cli', 'proxy-main.ts'));
    assert.ok(urls.some((u) => u.endsWith('/src/proxy/proxy.ts')), 'the proxy itself is loaded');
    assert.ok(urls.some((u) => u.endsWith('/src/proxy/upstream/http1/pool.ts')), 'weft\'s HTTP/1.1 pool is loaded');
    const unwanted = [
      '/src/api/', '/src/control/', '/src/registry/', '/src/analysis/',
      '/node_modules/zod/', '/node_modules/yaml/', '/node_modules/js-yaml/', '/node_modules/re2js/',
      '/node_modules/fastest-levenshtein/',
      // undici serves HTTP/2 upstreams only, loaded when a cluster first needs one.
      '/node_modules/undici/',
    ];
    assert.deepEqual(urls.filter((u) => unwanted.some((part) => u.includes(part))), []);
    assert.deepEqual(builtins.filter((b) => /internal\/deps\/undici|internal\/crypto\/webcrypto/.test(b)), []);
  });

  it('re-executes a proxy in place with its V8 flags, and keeps a flag the user set', { skip: process.platform !== 'linux' }, async () => {
    const start = async (env: Record<string, string>, nodeArgs: string[] = []) => {
      const child = spawn(process.execPath, [...nodeArgs, BIN, 'proxy', '--control', '127.0.0.1:9', '--name', 'startup', '--ip', '127.0.0.1', '--admin-port', '0', '--health-port', '0', '--prometheus-port', '0'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
      let err = '';
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('admin http://')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`weft proxy exited (${code}):\n${err}`)));
      });
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      return cmdline;
    };
    const own = await start({});
    assert.ok(own.includes('--max-semi-space-size=1'), `flags in ${own.join(' ')}`);
    assert.ok(own.includes(BIN), 'the same pid now runs bin/weft.js with the flags');
    const user = await start({ NODE_OPTIONS: '--max-semi-space-size=4' });
    assert.ok(!user.includes('--max-semi-space-size=1'), `the user's setting wins: ${user.join(' ')}`);
    const spelled = await start({}, ['--max_semi_space_size=2']);
    assert.ok(!spelled.includes('--max-semi-space-size=1'), `V8's underscore spelling counts as the user's setting: ${spelled.join(' ')}`);
  });
});
