/**
 * End to end: outlier detection from a DestinationRule. A real `weft control` with a DestinationRule
 * whose `outlierDetection` ejects after 2 consecutive 5xx, three `reviews` endpoints behind real
 * `weft proxy` sidecars (v3's app answers 503 while it is broken) and a client sidecar. Through the
 * client's outbound listener: v3 is ejected after its second 503 and gets nothing more, every request
 * succeeds, the client's admin shows the host `/failed_outlier_check` and Envoy's outlier stats; once
 * v3 is healthy again it comes back after the base ejection time.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startControl, waitFor, type ControlProcess } from './support/control-process.ts';
import { freeLoopback, request, startSidecar, tryRequest, type ProxyProcess } from './support/sidecars.ts';

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
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    outlierDetection: {consecutive5xxErrors: 2, interval: 100ms, baseEjectionTime: 4s, maxEjectionPercent: 100}
`;

interface App {
  readonly server: http.Server;
  readonly port: number;
  hits: number;
  broken: boolean;
}

async function startApp(name: string): Promise<App> {
  const app = { hits: 0, broken: false } as App;
  const server = http.createServer((_req, res) => {
    app.hits++;
    res.statusCode = app.broken ? 503 : 200;
    res.end(app.broken ? `${name} is broken` : name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(app, { server, port: (server.address() as AddressInfo).port });
}

describe('outlier detection with weft control and sidecars', { timeout: 60_000 }, () => {
  let control: ControlProcess;
  let client: ProxyProcess;
  const reviews = new Map<string, { proxy: ProxyProcess; app: App }>();
  const apps: App[] = [];

  const admin = async (path: string): Promise<string> => (await request(`http://${client.ip}:15000${path}`)).body;
  const flags = async (ip: string): Promise<string | undefined> => new RegExp(`^${REVIEWS.replaceAll('|', '\\|')}::${ip}:9080::health_flags::(\\S+)$`, 'm').exec(await admin('/clusters'))?.[1];
  const call = (): Promise<{ status: number; body: string }> => request('http://reviews:9080/', { proxy: `http://${client.ip}:15001` });

  before(async () => {
    control = await startControl();
    await control.apply(CONFIG);
    const taken = new Set<string>();
    const controlArg = ['--control', `127.0.0.1:${control.xdsPort}`];
    for (const version of ['v1', 'v2', 'v3']) {
      const app = await startApp(`reviews-${version}`);
      apps.push(app);
      const proxy = startSidecar([...controlArg, '--name', `reviews-${version}`, '--labels', `app=reviews,version=${version}`, '--port', `9080:${app.port}`], await freeLoopback(taken));
      reviews.set(version, { proxy, app });
    }
    const own = await startApp('productpage');
    apps.push(own);
    client = startSidecar([...controlArg, '--name', 'productpage-v1', '--labels', 'app=productpage', '--port', `9080:${own.port}`], await freeLoopback(taken));
  });

  after(async () => {
    for (const p of [client, ...[...reviews.values()].map((r) => r.proxy)]) if (p !== undefined && p.child.exitCode === null) p.child.kill('SIGKILL');
    for (const a of apps) a.server.close();
    await control?.stop();
  });

  it('ejects the endpoint answering 503 after two in a row: then every request succeeds, and it comes back after the ejection time', async () => {
    const v3 = reviews.get('v3')!;
    // Every endpoint healthy and in the client's cluster, each answering.
    await waitFor('three healthy reviews endpoints at the client', async () => {
      if ((await tryRequest(`http://${client.ip}:15000/ready`))?.status !== 200) return undefined;
      const all = await Promise.all([...reviews.values()].map((r) => flags(r.proxy.ip)));
      return all.every((f) => f === 'healthy') ? true : undefined;
    }, 30_000);
    await waitFor('every endpoint answering through the client', async () => {
      await tryRequest('http://reviews:9080/', { proxy: `http://${client.ip}:15001` });
      return [...reviews.values()].every((r) => r.app.hits > 0) ? true : undefined;
    }, 20_000);

    v3.app.broken = true;
    const before = v3.app.hits;
    const statuses: number[] = [];
    for (let i = 0; i < 30 && (await flags(v3.proxy.ip)) !== '/failed_outlier_check'; i++) statuses.push((await call()).status);
    assert.equal(await flags(v3.proxy.ip), '/failed_outlier_check', `v3 ejected (statuses ${statuses.join(',')})`);
    assert.equal(v3.app.hits - before, 2, 'ejected at its second consecutive 503');
    assert.deepEqual(statuses.filter((s) => s !== 200), [503, 503]);
    for (const v of ['v1', 'v2']) assert.equal(await flags(reviews.get(v)!.proxy.ip), 'healthy');

    const ejectedAt = v3.app.hits;
    const after = await Promise.all(Array.from({ length: 20 }, () => call()));
    assert.deepEqual(after.map((r) => r.status), Array(20).fill(200));
    assert.ok(after.every((r) => r.body === 'reviews-v1' || r.body === 'reviews-v2'), after.map((r) => r.body).join(','));
    assert.equal(v3.app.hits, ejectedAt, 'nothing reaches the ejected endpoint');

    const stats = await admin('/stats');
    const stat = (name: string): number => Number(new RegExp(`^cluster\\.${REVIEWS.replaceAll('|', '\\|').replaceAll('.', '\\.')}\\.outlier_detection\\.${name}: (\\d+)$`, 'm').exec(stats)?.[1]);
    assert.equal(stat('ejections_active'), 1, stats);
    assert.equal(stat('ejections_enforced_consecutive_5xx'), 1);
    assert.equal(stat('ejections_detected_consecutive_5xx'), 1);
    assert.equal(stat('ejections_enforced_total'), 1);
    assert.match(await request(`http://${client.ip}:15090/stats/prometheus`).then((r) => r.body), /^envoy_cluster_outlier_detection_ejections_active\{cluster_name="outbound\|9080\|\|reviews\.default\.svc\.cluster\.local"\} 1$/m);

    // Healthy again: back in the balancing set at the first interval tick after 4 s (long enough that the
    // checks above finish within the ejection on a loaded machine).
    v3.app.broken = false;
    await waitFor('v3 back in service', async () => ((await flags(v3.proxy.ip)) === 'healthy' ? true : undefined), 15_000);
    await waitFor('v3 answering again', async () => ((await call()).body === 'reviews-v3' ? true : undefined), 10_000);
    assert.equal(stat('ejections_enforced_total'), 1);
    assert.match(await admin('/stats'), /outlier_detection\.ejections_active: 0$/m);
  });
});
