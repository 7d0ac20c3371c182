import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { appEnvironment, NO_PROXY } from './app-env.ts';
import { exitCodeOf } from './app-process.ts';
import { pipeLines } from './line-prefix.ts';

describe('pipeLines', () => {
  it('prefixes whole lines across chunk boundaries, CRLF included, and flushes a last partial line', async () => {
    const input = new PassThrough();
    let out = '';
    const done = pipeLines(input, '[app] ', { write: (t: string) => (out += t) });
    input.write('one\ntw');
    input.write('o\r\nthr');
    input.end('ee');
    await done;
    assert.equal(out, '[app] one\n[app] two\n[app] three\n');
  });
});

describe('appEnvironment', () => {
  it('points the app at its sidecar, replaces inherited proxy settings, and sets its identity and port', () => {
    const env = appEnvironment({ PATH: '/bin', HTTPS_PROXY: 'http://corp:3128', no_proxy: 'corp', PORT: '1' }, { name: 'reviews-v1', namespace: 'shop', serviceAccount: 'bookinfo-reviews', ip: '127.0.1.9', outboundPort: 15001, appPort: 4321 });
    assert.deepEqual(env, {
      PATH: '/bin', HTTP_PROXY: 'http://127.0.1.9:15001', http_proxy: 'http://127.0.1.9:15001', NO_PROXY, no_proxy: NO_PROXY, NODE_USE_ENV_PROXY: '1',
      POD_NAME: 'reviews-v1', POD_NAMESPACE: 'shop', SERVICE_ACCOUNT: 'bookinfo-reviews', INSTANCE_IP: '127.0.1.9', PORT: '4321',
    });
  });

  it('gives an app without a port none, and brackets an IPv6 sidecar address', () => {
    const env = appEnvironment({ PORT: '80' }, { name: 'job', namespace: 'default', serviceAccount: 'default', ip: '::1', outboundPort: 15001 });
    assert.equal(env.PORT, undefined);
    assert.equal(env.HTTP_PROXY, 'http://[::1]:15001');
  });

  it('takes out the allocator weft preloaded into the sidecar, and keeps one the user preloaded', () => {
    const id = { name: 'job', namespace: 'default', serviceAccount: 'default', ip: '127.0.1.9', outboundPort: 15001 };
    const ours = appEnvironment({ LD_PRELOAD: '/usr/lib/libjemalloc.so.2', WEFT_PRELOADED_MALLOC: '/usr/lib/libjemalloc.so.2' }, id);
    assert.equal(ours.LD_PRELOAD, undefined);
    assert.equal(ours.WEFT_PRELOADED_MALLOC, undefined);
    const theirs = appEnvironment({ LD_PRELOAD: '/opt/libtrace.so' }, id);
    assert.equal(theirs.LD_PRELOAD, '/opt/libtrace.so');
  });
});

describe('exitCodeOf', () => {
  it('is the exit code, or 128 + the signal number', () => {
    assert.equal(exitCodeOf({ code: 3, signal: null }), 3);
    assert.equal(exitCodeOf({ code: null, signal: 'SIGTERM' }), 143);
    assert.equal(exitCodeOf({ code: null, signal: 'SIGKILL' }), 137);
  });
});
