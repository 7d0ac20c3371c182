/**
 * End to end: HTTP/1.0 through real sidecars, as Istio has it. A sidecar refuses HTTP/1.0 with 426
 * Upgrade Required (Envoy's default); one started with `ISTIO_META_HTTP10=1` (Istio's proxy metadata
 * `HTTP10`) gets `accept_http_10` from `weft control` and carries the request to the app.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startControl, waitFor, type ControlProcess } from './support/control-process.ts';
import { raw } from './support/hcm-harness.ts';
import { freeLoopback, startNamedApp, startSidecar, type ProxyProcess } from './support/sidecars.ts';

const CONFIG = `apiVersion: v1
kind: Service
metadata: {name: ratings}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
`;

describe('HTTP/1.0 through sidecars', { timeout: 60_000 }, () => {
  let control: ControlProcess;
  const proxies: ProxyProcess[] = [];
  let strict: ProxyProcess;
  let lenient: ProxyProcess;
  const servers: { close(cb: () => void): void }[] = [];

  before(async () => {
    control = await startControl();
    await control.apply(CONFIG);
    const taken = new Set<string>();
    const controlArg = ['--control', `127.0.0.1:${control.xdsPort}`];
    const ratings = await startNamedApp('ratings');
    servers.push(ratings.server);
    proxies.push(startSidecar([...controlArg, '--name', 'ratings-v1', '--labels', 'app=ratings', '--port', `9080:${ratings.port}`], await freeLoopback(taken)));
    strict = startSidecar([...controlArg, '--name', 'client-strict', '--labels', 'app=client'], await freeLoopback(taken));
    lenient = startSidecar([...controlArg, '--name', 'client-http10', '--labels', 'app=client'], await freeLoopback(taken), { ISTIO_META_HTTP10: '1' });
    proxies.push(strict, lenient);
    const through = (p: ProxyProcess) => async () => {
      const out = await raw(15001, 'GET http://ratings:9080/ HTTP/1.1\r\nHost: ratings:9080\r\nConnection: close\r\n\r\n', 2000, p.ip).catch(() => '');
      return out.endsWith('ratings') || undefined;
    };
    await waitFor('the strict client to reach ratings', through(strict), 20_000);
    await waitFor('the HTTP/1.0 client to reach ratings', through(lenient), 20_000);
  });

  after(async () => {
    for (const p of proxies) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    await control?.stop();
  });

  it('a sidecar answers HTTP/1.0 with 426 Upgrade Required by default', async () => {
    const out = await raw(15001, 'GET http://ratings:9080/ HTTP/1.0\r\n\r\n', 2000, strict.ip);
    assert.match(out, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    assert.match(out, /x-weft-error: upgrade required: client sent an HTTP\/1\.0 request/);
  });

  it('a sidecar with ISTIO_META_HTTP10=1 carries HTTP/1.0 to the app', async () => {
    const out = await raw(15001, 'GET http://ratings:9080/ HTTP/1.0\r\n\r\n', 2000, lenient.ip);
    assert.match(out, /^HTTP\/1\.[01] 200 /);
    assert.ok(out.endsWith('ratings'), out);
  });
});
