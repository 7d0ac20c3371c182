/**
 * The peers' configuration files are valid for the installed nginx and HAProxy (`nginx -t`, `haproxy
 * -c`; skipped where the binary is missing) and say what the comparison claims: one worker or thread,
 * loopback listeners, keep-alive to the upstream, one listener per route.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haproxyConfig, nginxConfig } from './peer-configs.ts';

const routes = [
  { listen: { host: '127.0.0.1', port: 18081 }, upstream: { host: '127.0.0.1', port: 18080 } },
  { listen: { host: '127.0.0.1', port: 18082 }, upstream: { host: '127.0.0.1', port: 18083 } },
];
const installed = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** Writes `text(dir)` into a new folder and runs the tool's check on it. */
function check(file: string, text: (dir: string) => string, command: string, args: (dir: string, path: string) => string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-peer-config-test-'));
  try {
    const path = join(dir, file);
    writeFileSync(path, text(dir));
    const r = spawnSync(command, args(dir, path), { encoding: 'utf8' });
    assert.equal(r.status, 0, `${command} rejected its file:\n${r.stderr}\n${text(dir)}`);
    return `${r.stdout}${r.stderr}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('peer proxy configuration files', () => {
  it('nginx: one worker, one loopback server per route with a keep-alive upstream, accepted by nginx -t', { skip: !installed('nginx') && 'nginx is not installed' }, () => {
    const text = nginxConfig({ routes, dir: '/tmp/x' });
    assert.match(text, /^worker_processes 1;$/m);
    assert.equal(text.match(/listen 127\.0\.0\.1:\d+;/g)?.length, 2);
    assert.equal(text.match(/keepalive 256;/g)?.length, 2);
    assert.match(text, /server 127\.0\.0\.1:18083;/);
    assert.match(text, /proxy_set_header Connection "";/);
    const out = check('nginx.conf', (dir) => nginxConfig({ routes, dir }), 'nginx', (dir, path) => ['-t', '-p', `${dir}/`, '-c', path, '-e', 'stderr']);
    assert.match(out, /test is successful/);
  });

  it('HAProxy: one thread, a frontend and backend per route with connection reuse, accepted by haproxy -c', { skip: !installed('haproxy') && 'haproxy is not installed' }, () => {
    const text = haproxyConfig({ routes, dir: '/tmp/x' });
    assert.match(text, /^\s+nbthread 1$/m);
    assert.match(text, /^\s+http-reuse always$/m);
    assert.equal(text.match(/^\s+bind 127\.0\.0\.1:\d+$/gm)?.length, 2);
    assert.match(text, /server app 127\.0\.0\.1:18083/);
    check('haproxy.cfg', () => text, 'haproxy', (_dir, path) => ['-c', '-f', path]);
  });
});
