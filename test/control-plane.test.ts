/**
 * `weft control` end to end with raw ADS streams standing in for sidecars: proxies register as
 * workloads from their node metadata, endpoint-only changes take the EDS fast path, watched files hot
 * reload (an invalid edit keeps the last good config), a proxy leaves after its grace period, and the
 * debug endpoints and metrics tell the story.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from '../src/control/control-plane.ts';
import { AdsTestClient, SlowSotwClient, type Obj, type TestStream } from '../src/control/ads/testing.ts';
import { TYPE } from '../src/xds/type-urls.ts';
import { jsToStruct } from '../src/xds/protos.ts';
import { nodeOf, type NodeSpec } from '../src/control/translate/harness.ts';
import { waitFor } from './support/control-process.ts';

const REVIEWS_CLUSTER = 'outbound|9080||reviews.default.svc.cluster.local';
const BASE = `apiVersion: v1
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
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
`;

const reviews = (v: string, ip: string): NodeSpec => ({ name: `reviews-${v}`, ip, labels: { app: 'reviews', version: v }, ports: [{ name: 'http', containerPort: 9080 }] });

class Sidecar {
  readonly stream: TestStream;
  readonly spec: NodeSpec;
  readonly #nonces = new Map<string, string>();
  constructor(client: AdsTestClient, spec: NodeSpec) {
    this.spec = spec;
    this.stream = client.sotw();
  }
  request(typeUrl: string, names: string[] = [], first = false): void {
    const n = nodeOf(this.spec);
    this.stream.send({
      ...(first ? { node: { id: n.id, cluster: n.cluster, metadata: jsToStruct(n.metadata) } } : {}),
      typeUrl, resourceNames: names, responseNonce: this.#nonces.get(typeUrl) ?? '', versionInfo: '',
    });
  }
  /** Reads responses (ACKing each) until one of `typeUrl` satisfies `test`. */
  async until(typeUrl: string, test: (r: Obj) => boolean): Promise<Obj> {
    for (;;) {
      const r = await this.stream.next();
      this.#nonces.set(r.typeUrl, r.nonce);
      this.stream.send({ typeUrl: r.typeUrl, versionInfo: r.versionInfo, responseNonce: r.nonce, resourceNames: r.typeUrl === TYPE.endpoint ? [REVIEWS_CLUSTER] : r.typeUrl === TYPE.route ? ['15001'] : [] });
      if (r.typeUrl === typeUrl && test(r)) return r;
    }
  }
  async connect(): Promise<void> {
    this.request(TYPE.cluster, [], true);
    await this.until(TYPE.cluster, () => true);
    this.request(TYPE.endpoint, [REVIEWS_CLUSTER]);
    this.request(TYPE.listener);
    this.request(TYPE.route, ['15001']);
  }
}

/** `address:port` of every endpoint in an EDS response (decoded by the test client's protos). */
function endpointsOf(r: Obj): string[] {
  const out: string[] = [];
  for (const res of r.resources ?? []) {
    for (const loc of res.endpoints ?? []) for (const e of loc.lbEndpoints ?? []) out.push(`${e.endpoint.address.socketAddress.address}:${e.endpoint.address.socketAddress.portValue}`);
  }
  return out.sort();
}

describe('weft control (in-process) with raw ADS sidecars', () => {
  let dir: string;
  let state: string;
  let cp: ControlPlane;
  let client: AdsTestClient;
  const get = async (path: string) => (await fetch(`${cp.http.url.replace(/\/$/, '')}${path}`)).json() as Promise<Obj>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-cfg-'));
    state = await mkdtemp(join(tmpdir(), 'weft-state-'));
    await writeFile(join(dir, 'base.yaml'), BASE);
    cp = await ControlPlane.start({ configDirs: [dir], stateDir: state, xds: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, debounceMs: 10, removalGraceMs: 50, log: () => {} });
    client = new AdsTestClient(cp.xdsPort);
  });
  after(async () => {
    client.close();
    await cp.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(state, { recursive: true, force: true });
  });

  it('registers proxies as workloads and pushes only EDS when endpoints change', async () => {
    const a = new Sidecar(client, reviews('v1', '127.0.1.2'));
    await a.connect();
    await a.until(TYPE.endpoint, (r) => endpointsOf(r).join() === '127.0.1.2:9080');
    const before = (await get('/debug/syncz')) as unknown as { proxyId: string; types: Record<string, { versionSent?: string }> }[];
    const cdsBefore = before.find((s) => s.proxyId.includes('reviews-v1'))?.types[TYPE.cluster]?.versionSent;
    const b = new Sidecar(client, reviews('v2', '127.0.1.3'));
    await b.connect();
    const eds = await a.until(TYPE.endpoint, (r) => endpointsOf(r).length === 2);
    assert.deepEqual(endpointsOf(eds), ['127.0.1.2:9080', '127.0.1.3:9080']);
    const afterSync = (await get('/debug/syncz')) as unknown as { proxyId: string; types: Record<string, { versionSent?: string }> }[];
    assert.equal(afterSync.find((s) => s.proxyId.includes('reviews-v1'))?.types[TYPE.cluster]?.versionSent, cdsBefore, 'CDS must not be re-sent for an endpoint change');
    const registry = await get('/debug/registryz');
    assert.match(JSON.stringify(registry), /reviews-v2/);

    b.stream.cancel();
    const left = await a.until(TYPE.endpoint, (r) => endpointsOf(r).length === 1);
    assert.deepEqual(endpointsOf(left), ['127.0.1.2:9080']);
  });

  it("answers a connecting proxy's subscriptions after the push its registration causes: its first EDS has itself", async () => {
    const c = new SlowSotwClient(cp.xdsPort);
    const n = nodeOf(reviews('v3', '127.0.1.4'));
    // Sent in one write, as Envoy's first requests often are: the second is read in the turn that
    // registers the workload, and waits for that registration's push instead of being answered from the
    // view without it.
    c.sendTogether([
      { node: { id: n.id, cluster: n.cluster, metadata: jsToStruct(n.metadata) }, typeUrl: TYPE.cluster },
      { typeUrl: TYPE.endpoint, resourceNames: [REVIEWS_CLUSTER] },
    ]);
    let eds: Obj;
    do eds = await c.next(); while (eds.typeUrl !== TYPE.endpoint);
    assert.ok(endpointsOf(eds).includes('127.0.1.4:9080'), `first EDS answer: ${endpointsOf(eds).join(', ')}`);
    c.close();
    await waitFor('reviews-v3 to leave the registry', async () => JSON.stringify(await get('/debug/registryz')).includes('reviews-v3') ? undefined : true);
  });

  it('hot-reloads watched files; an invalid edit keeps the last good config and is reported', async () => {
    const a = new Sidecar(client, reviews('v1', '127.0.1.2'));
    await a.connect();
    const vs = (subset: string, extra = '') => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: ${subset}}${extra}}]
`;
    const sent = async () => {
      const all = (await get('/debug/syncz')) as unknown as { proxyId: string; types: Record<string, { versionSent?: string; sentAt?: number }> }[];
      return all.find((st) => st.proxyId.includes('reviews-v1'))!.types;
    };
    await a.until(TYPE.route, () => true);
    const before = await sent();
    await writeFile(join(dir, 'vs.yaml'), vs('v2'));
    await a.until(TYPE.route, (r) => JSON.stringify(r).includes('outbound|9080|v2|reviews'));
    const afterVs = await sent();
    for (const t of [TYPE.cluster, TYPE.endpoint]) assert.equal(afterVs[t]?.sentAt, before[t]?.sentAt, `a VirtualService change must not push ${t}`);
    await writeFile(join(dir, 'vs.yaml'), vs('v1', ', weight: 150'));
    const configz = await waitFor('the invalid file to be reported', async () => {
      const c = await get('/debug/configz');
      return JSON.stringify(c).includes('must be between 0 and 100 (got 150)') ? c : undefined;
    });
    assert.match(JSON.stringify(configz), /vs\.yaml/);
    const dump = await get(`/debug/config_dump?proxyID=${encodeURIComponent(nodeOf(reviews('v1', '127.0.1.2')).id)}`);
    assert.match(JSON.stringify(dump['routes']), /outbound\|9080\|v2\|reviews/, 'the last good VirtualService stays in force');
    assert.ok(Array.isArray(dump['listeners']) && Array.isArray(dump['clusters']));
    a.stream.cancel();
  });

  it('exposes istiod\'s metrics and keeps applied config across a restart', async () => {
    const metrics = await (await fetch(`${cp.http.url.replace(/\/$/, '')}/metrics`)).text();
    for (const name of ['pilot_xds_pushes', 'pilot_proxy_convergence_time', 'pilot_xds', 'pilot_total_xds_rejects', 'pilot_xds_push_errors', 'pilot_xds_push_time']) assert.match(metrics, new RegExp(`^# TYPE ${name} `, 'm'));
    assert.match(metrics, /^pilot_proxy_convergence_time_count [1-9]/m);
    assert.match(metrics, /^pilot_xds_push_time_count [1-9]/m);
    assert.match(metrics, /^pilot_xds\{version="weft"\} 1$/m);
    assert.match(metrics, /pilot_xds_pushes\{type="eds"\} [1-9]/);
    const res = await fetch(`${cp.http.url.replace(/\/$/, '')}/apply`, { method: 'POST', body: 'apiVersion: v1\nkind: Service\nmetadata: {name: ratings}\nspec:\n  ports: [{name: http, port: 9080}]\n' });
    assert.equal(res.status, 200);
    await cp.stop();
    cp = await ControlPlane.start({ configDirs: [dir], stateDir: state, xds: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, debounceMs: 10, log: () => {} });
    client.close();
    client = new AdsTestClient(cp.xdsPort);
    assert.ok(cp.store.snapshot().of('Service').some((s) => s.metadata.name === 'ratings'));
  });
});
