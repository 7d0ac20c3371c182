/**
 * End to end: DestinationRule `loadBalancer.consistentHash` through a real `weft control` and real
 * `weft proxy` sidecars. Three `reviews` workloads, each an app behind its own sidecar; the client talks
 * to its sidecar's outbound listener (15001) as an HTTP proxy. With `httpHeaderName: x-user`, every
 * request carrying one user lands on one workload while different users spread; with `httpCookie` and a
 * ttl, a request without the cookie gets one minted in `set-cookie`, and requests presenting it land
 * where the minting request did.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { startControl, waitFor, type ControlProcess } from './support/control-process.ts';
import { freeLoopback, request, startNamedApp, startSidecar, type ProxyProcess, type Reply } from './support/sidecars.ts';

const CLUSTER = 'outbound|9080||reviews.default.svc.cluster.local';
const URL_ = 'http://reviews:9080/reviews/1';

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
`;

const rule = (consistentHash: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash: ${consistentHash}
`;

const BY_HEADER = rule('{httpHeaderName: x-user}');
const BY_COOKIE = rule('{httpCookie: {name: weft-affinity, path: /, ttl: 3600s}}');
const MINTED = /^weft-affinity="([0-9a-f]{16})"; Max-Age=3600; Path=\/; HttpOnly$/;

describe('DestinationRule consistentHash across real sidecars', { timeout: 90_000 }, () => {
  let control: ControlProcess;
  let client: ProxyProcess;
  const sidecars: ProxyProcess[] = [];
  const apps: http.Server[] = [];
  const proxy = () => `http://${client.ip}:15001`;

  /** Which workload answered a request with these headers. */
  const landing = async (headers: Record<string, string>): Promise<string> => {
    const r = await request(URL_, { proxy: proxy(), headers });
    assert.equal(r.status, 200, `${r.status} ${String(r.headers['x-weft-error'])}`);
    return r.body;
  };

  before(async () => {
    control = await startControl();
    await control.apply(SERVICE + '---\n' + BY_HEADER);
    const taken = new Set<string>();
    const controlArg = ['--control', `127.0.0.1:${control.xdsPort}`];
    for (const name of ['reviews-1', 'reviews-2', 'reviews-3']) {
      const app = await startNamedApp(name);
      apps.push(app.server);
      sidecars.push(startSidecar([...controlArg, '--name', name, '--labels', 'app=reviews', '--port', `9080:${app.port}`], await freeLoopback(taken)));
    }
    const own = await startNamedApp('client');
    apps.push(own.server);
    client = startSidecar([...controlArg, '--name', 'client', '--labels', 'app=client', '--port', `9080:${own.port}`], await freeLoopback(taken));
    sidecars.push(client);
    for (const s of sidecars) {
      await waitFor(`${s.ip} ready`, async () => ((await fetch(`http://${s.ip}:15021/healthz/ready`).catch(() => undefined))?.status === 200 ? true : undefined), 30_000);
    }
    // The client's sidecar knows all three endpoints once its EDS lists them.
    await waitFor('three reviews endpoints at the client', async () => {
      const text = await fetch(`http://${client.ip}:15000/clusters`).then((r) => r.text(), () => undefined);
      const hosts = text?.split('\n').filter((l) => l.startsWith(`${CLUSTER}::`) && l.includes('::health_flags::healthy')) ?? [];
      return hosts.length === 3 ? true : undefined;
    }, 30_000);
  });

  after(async () => {
    for (const s of sidecars) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    for (const s of apps) s.close();
    await control?.stop();
  });

  it('sends every request of one x-user to one workload, and different users to different workloads', async () => {
    const byUser = new Map<string, string>();
    for (let u = 0; u < 30; u++) {
      const user = `user-${u}`;
      const seen = new Set<string>();
      for (let i = 0; i < 8; i++) seen.add(await landing({ 'x-user': user }));
      assert.equal(seen.size, 1, `${user} landed on ${[...seen].join(', ')}`);
      byUser.set(user, [...seen][0]!);
    }
    const used = new Set(byUser.values());
    assert.ok(used.size >= 2, `30 users all landed on ${[...used].join(', ')}`);
    // The route really hashes on the header: a request without it is spread over the workloads.
    const spread = new Set<string>();
    for (let i = 0; i < 60 && spread.size < 2; i++) spread.add(await landing({}));
    assert.ok(spread.size >= 2, 'requests without x-user should not stick');
  });

  it('mints the affinity cookie when a request has none, and honours it', async () => {
    await control.apply(BY_COOKIE);
    const minted: Reply = await waitFor('a minted affinity cookie', async () => {
      const r = await request(URL_, { proxy: proxy() }).catch(() => undefined);
      return r !== undefined && r.headers['set-cookie'] !== undefined ? r : undefined;
    }, 20_000);
    const [setCookie, ...more] = minted.headers['set-cookie']!;
    assert.deepEqual(more, []);
    const value = MINTED.exec(setCookie!)?.[1];
    assert.ok(value !== undefined, setCookie);

    // Presenting the cookie: no new one, and always the workload the minting request went to.
    for (let i = 0; i < 10; i++) {
      const r = await request(URL_, { proxy: proxy(), headers: { cookie: `other=1; weft-affinity="${value}"` } });
      assert.equal(r.headers['set-cookie'], undefined);
      assert.equal(r.body, minted.body);
    }
    // Different cookies spread; each sticks.
    const used = new Set<string>();
    for (let c = 0; c < 30; c++) {
      const cookie = `weft-affinity=c${c}`;
      const first = await landing({ cookie });
      for (let i = 0; i < 3; i++) assert.equal(await landing({ cookie }), first, cookie);
      used.add(first);
    }
    assert.ok(used.size >= 2, `30 cookies all landed on ${[...used].join(', ')}`);
  });
});
