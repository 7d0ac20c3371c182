/**
 * End to end: a real `weft control` and two real `weft proxy` sidecars, each on a loopback address of
 * its own with an app behind it. The test talks to sidecar A's outbound listener (15001) as an HTTP
 * proxy; the request goes A → B's inbound listener (9080, found over EDS) → B's app. Then config pushed
 * through the control plane (a VirtualService) changes what A does; the admin endpoints show it all;
 * both proxies drain and exit (SIGTERM, `/quitquitquit`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { startControl, waitFor, type ControlProcess } from './support/control-process.ts';
import { freeLoopback, request, startSidecar as startProxy, tryRequest, type ProxyProcess } from './support/sidecars.ts';

const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';

const CONFIG = `apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}]
`;

const VIRTUAL_SERVICE = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    directResponse: {status: 418, body: {string: "teapot for jason"}}
  - route: [{destination: {host: reviews, subset: v1}}]
`;

async function startApp(name: string): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`${name} ${req.method} ${req.url} host=${req.headers.host}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('weft proxy with weft control (two sidecars)', { timeout: 60_000 }, () => {
  let control: ControlProcess;
  let a: ProxyProcess;
  let b: ProxyProcess;
  const apps: http.Server[] = [];

  before(async () => {
    control = await startControl();
    await control.apply(CONFIG);
    const taken = new Set<string>();
    const [ipA, ipB] = [await freeLoopback(taken), await freeLoopback(taken)];
    const appA = await startApp('productpage');
    const appB = await startApp('reviews-v1');
    apps.push(appA.server, appB.server);
    const controlArg = ['--control', `127.0.0.1:${control.xdsPort}`];
    b = startProxy([...controlArg, '--name', 'reviews-v1', '--labels', 'app=reviews,version=v1', '--port', `9080:${appB.port}`], ipB);
    a = startProxy([...controlArg, '--name', 'productpage-v1', '--labels', 'app=productpage', '--port', `9080:${appA.port}`], ipA);
  });

  after(async () => {
    for (const p of [a, b]) if (p !== undefined && p.child.exitCode === null) p.child.kill('SIGKILL');
    for (const s of apps) s.close();
    await control?.stop();
  });

  it('turns /healthz/ready 200 once configured, with admin /ready LIVE', async () => {
    for (const p of [a, b]) {
      await waitFor(`${p.ip} /healthz/ready`, async () => ((await tryRequest(`http://${p.ip}:15021/healthz/ready`))?.status === 200 ? true : undefined), 20_000);
      const ready = await request(`http://${p.ip}:15000/ready`);
      assert.equal(ready.status, 200);
      assert.equal(ready.body.trim(), 'LIVE');
    }
    assert.match(a.output(), /weft proxy: ready/);
  });

  it('routes an absolute-form request from A\'s outbound listener to B\'s app through B\'s inbound listener', async () => {
    const reply = await waitFor('reviews through A', async () => {
      const r = await tryRequest('http://reviews:9080/reviews/1?x=y', { proxy: `http://${a.ip}:15001` });
      return r?.status === 200 ? r : undefined;
    }, 20_000);
    assert.equal(reply.body, 'reviews-v1 GET /reviews/1?x=y host=reviews:9080');
    assert.equal(reply.headers.server, 'weft');
    const fqdn = await request('http://reviews.default.svc.cluster.local:9080/', { proxy: `http://${a.ip}:15001` });
    assert.equal(fqdn.status, 200);
    assert.match(fqdn.body, /^reviews-v1 GET \/ /);
  });

  it('says why a request fails: an unknown host goes to PassthroughCluster and fails to connect', async () => {
    const r = await request('http://127.0.0.1:1/', { proxy: `http://${a.ip}:15001` });
    assert.equal(r.status, 503);
    assert.match(String(r.headers['x-weft-error']), /connect.*127\.0\.0\.1:1.*PassthroughCluster/);
  });

  it('tunnels CONNECT reviews:9080 through A to B\'s app', async () => {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const req = http.request({ host: a.ip, port: 15001, method: 'CONNECT', path: 'reviews:9080', agent: false, headers: { host: 'reviews:9080' } });
      req.on('connect', (res, sock) => (res.statusCode === 200 ? resolve(sock) : reject(new Error(`CONNECT → ${res.statusCode} ${String(res.headers['x-weft-error'])}`))));
      req.on('error', reject);
      req.end();
    });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (data += d));
    socket.write('GET /tunnel HTTP/1.1\r\nhost: reviews:9080\r\nconnection: close\r\n\r\n');
    await new Promise((r) => socket.once('close', r));
    assert.match(data, /^HTTP\/1\.1 200/);
    assert.match(data, /reviews-v1 GET \/tunnel host=reviews:9080/);
  });

  it('shows listeners, clusters, routes and endpoints in /config_dump, /clusters and /listeners', async () => {
    const dump = JSON.parse((await request(`http://${a.ip}:15000/config_dump?include_eds`)).body) as { configs: Record<string, any>[] };
    const of = (t: string) => dump.configs.find((c) => c['@type'] === `type.googleapis.com/envoy.admin.v3.${t}`)!;
    assert.equal(of('BootstrapConfigDump').bootstrap.node.id, `sidecar~${a.ip}~productpage-v1.default~default.svc.cluster.local`);
    const listeners = of('ListenersConfigDump').dynamic_listeners as { name: string; active_state?: { version_info?: string } }[];
    assert.ok(listeners.some((l) => l.name === 'virtualOutbound' && l.active_state?.version_info !== undefined), JSON.stringify(listeners.map((l) => l.name)));
    assert.ok(listeners.some((l) => l.name === `${a.ip}_9080`));
    const clusters = (of('ClustersConfigDump').dynamic_active_clusters as { cluster: { name: string } }[]).map((c) => c.cluster.name);
    for (const name of [REVIEWS, 'outbound|9080|v1|reviews.default.svc.cluster.local', 'inbound|9080||', 'PassthroughCluster']) assert.ok(clusters.includes(name), `${name} in ${clusters.join(', ')}`);
    const routes = of('RoutesConfigDump').dynamic_route_configs as { route_config: { name: string; vhds?: unknown; virtual_hosts: { name: string }[] } }[];
    const outbound = routes.find((r) => r.route_config.name === '15001')?.route_config;
    // The outbound virtual hosts came over VHDS and are shown merged, after the inline catch-all.
    assert.ok(outbound?.vhds !== undefined, JSON.stringify(outbound).slice(0, 300));
    assert.deepEqual(outbound.virtual_hosts.map((v) => v.name).filter((n) => n.includes('reviews')), [`15001/${REVIEWS.split('|')[3]}:9080`]);
    assert.match(JSON.stringify(of('EndpointsConfigDump')), new RegExp(b.ip.replaceAll('.', '\\.')));

    const text = (await request(`http://${a.ip}:15000/clusters`)).body;
    assert.ok(text.includes(`${REVIEWS}::${b.ip}:9080::health_flags::healthy`), text);
    const ls = (await request(`http://${a.ip}:15000/listeners`)).body;
    assert.ok(ls.includes(`virtualOutbound::${a.ip}:15001`), ls);
  });

  it('counts in /stats and /stats/prometheus (Envoy names)', async () => {
    const stats = (await request(`http://${a.ip}:15000/stats`)).body;
    assert.match(stats, new RegExp(`^cluster\\.${REVIEWS.replaceAll('|', '\\|').replaceAll('.', '\\.')}\\.upstream_rq_total: [1-9]`, 'm'));
    const prom = (await request(`http://${a.ip}:15090/stats/prometheus`)).body;
    assert.match(prom, /^# TYPE envoy_cluster_upstream_rq_total counter$/m);
    assert.ok(prom.includes(`envoy_cluster_upstream_rq_total{cluster_name="${REVIEWS}"}`), prom.slice(0, 500));
  });

  it('sets the log level through /logging', async () => {
    const set = await request(`http://${a.ip}:15000/logging?level=debug`, { method: 'POST' });
    assert.match(set.body, /router: debug/);
    const bad = await request(`http://${a.ip}:15000/logging?level=loud`, { method: 'POST' });
    assert.equal(bad.status, 400);
    await request(`http://${a.ip}:15000/logging?level=info`, { method: 'POST' });
  });

  it('applies a VirtualService pushed by the control plane: a header match gets a direct response', async () => {
    await control.apply(VIRTUAL_SERVICE);
    const teapot = await waitFor('the direct response', async () => {
      const r = await tryRequest('http://reviews:9080/', { proxy: `http://${a.ip}:15001`, headers: { 'end-user': 'jason' } });
      return r?.status === 418 ? r : undefined;
    }, 20_000);
    assert.equal(teapot.body, 'teapot for jason');
    const others = await request('http://reviews:9080/', { proxy: `http://${a.ip}:15001`, headers: { 'end-user': 'sam' } });
    assert.equal(others.status, 200);
    assert.match(others.body, /^reviews-v1 /);
  });

  it('stops accepting on inbound listeners with POST /drain_listeners?inboundonly, outbound keeps serving', async () => {
    assert.equal((await request(`http://${a.ip}:9080/`)).status, 200);
    const r = await request(`http://${a.ip}:15000/drain_listeners?inboundonly`, { method: 'POST' });
    assert.equal(r.status, 200);
    await waitFor('A\'s inbound listener closed', async () => ((await tryRequest(`http://${a.ip}:9080/`)) === undefined ? true : undefined));
    const out = await request('http://reviews:9080/', { proxy: `http://${a.ip}:15001` });
    assert.equal(out.status, 200);
  });

  it('drains and exits on POST /quitquitquit and on SIGTERM', async () => {
    const get = await request(`http://${b.ip}:15000/quitquitquit`);
    assert.equal(get.status, 405);
    const quit = await request(`http://${b.ip}:15000/quitquitquit`, { method: 'POST' });
    assert.equal(quit.status, 200);
    assert.equal(await b.exited, 0);
    assert.match(b.output(), /quitquitquit, draining[\s\S]*stopped/);
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0);
    assert.match(a.output(), /SIGTERM, draining[\s\S]*stopped/);
  });
});
