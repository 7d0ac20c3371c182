/**
 * Routing changes rebuild only the virtual hosts they can affect (change-scope.ts, PushContext's route
 * reuse): through the real control plane (config store → debouncer → push context → generator), a
 * VirtualService change keeps every other host's virtual host the same object, and a DestinationRule
 * change rebuilds the hosts whose routes go to it, so a route to a subset that appears stops being a 503.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from '../src/control/control-plane.ts';
import { parseConfig } from '../src/api/index.ts';
import { nodeOf } from '../src/control/translate/harness.ts';
import type { Proxy } from '../src/control/proxy.ts';
import { decodeResource } from '../src/xds/protos.ts';
import { TYPE } from '../src/xds/type-urls.ts';

const service = (name: string) => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: 80}]
`;
const A = '15001/a.default.svc.cluster.local:80';
const C = '15001/c.default.svc.cluster.local:80';

describe('route reuse across pushes', () => {
  let state: string;
  let cp: ControlPlane;
  let proxy: Proxy;

  /** Applies `yaml` and resolves once the push it causes was published. */
  async function apply(yaml: string): Promise<void> {
    const published = new Promise<void>((resolve) => {
      const off = cp.generator.onPush(() => {
        off();
        resolve();
      });
    });
    const set = parseConfig(yaml, 'test.yaml');
    await cp.store.apply(set.resources);
    await published;
  }

  /** The proxy's VHDS virtual hosts now: the plain objects, and decoded from what is sent. */
  function virtualHosts(): { objects: Map<string, object>; sent: Map<string, Record<string, any>> } {
    const g = cp.generator;
    const objects = new Map(g.objects(g.context, proxy, TYPE.virtualHost, ['15001']).map((o) => [(o as { name: string }).name, o]));
    const sent = new Map(g.generate(proxy, TYPE.virtualHost, ['15001']).resources.map((r) => [r.name, decodeResource(TYPE.virtualHost, r.body) as Record<string, any>]));
    return { objects, sent };
  }

  before(async () => {
    state = await mkdtemp(join(tmpdir(), 'weft-reuse-'));
    cp = await ControlPlane.start({ stateDir: state, xds: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, debounceMs: 1, log: () => {} });
    await apply(service('a') + service('b') + service('c'));
    const connected = cp.generator.connect(nodeOf({ name: 'client', ip: '127.0.9.1', vhds: true }));
    if ('error' in connected) throw new Error(connected.error);
    proxy = connected;
  });
  after(async () => {
    await cp.stop();
    await rm(state, { recursive: true, force: true });
  });

  it('a VirtualService change rebuilds its host only; a DestinationRule change rebuilds the hosts routing to it', async () => {
    const first = virtualHosts();
    await apply(`---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a}
spec:
  hosts: [a]
  http: [{route: [{destination: {host: b, subset: v1}}]}]
`);
    const second = virtualHosts();
    assert.equal(second.objects.get(C), first.objects.get(C), 'c is untouched by a change to a: same virtual host object');
    assert.notEqual(second.objects.get(A), first.objects.get(A));
    const routeA = second.sent.get(A)!['routes'][0];
    assert.equal(routeA.directResponse?.status, 503, 'b has no subset v1 yet');
    assert.match(routeA.directResponse.body.inlineString, /no cluster outbound\|80\|v1\|b\.default\.svc\.cluster\.local/);

    await apply(`---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: b}
spec:
  host: b
  subsets: [{name: v1, labels: {version: v1}}]
`);
    const third = virtualHosts();
    assert.equal(third.sent.get(A)!['routes'][0].route?.cluster, 'outbound|80|v1|b.default.svc.cluster.local', 'a routes to the new subset');
    assert.equal(third.objects.get(C), first.objects.get(C));

    await apply(`---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default}
spec: {egress: [{hosts: ["*/*"]}]}
`);
    const fourth = virtualHosts();
    assert.notEqual(fourth.objects.get(C), first.objects.get(C), 'a Sidecar change rebuilds everything');
    assert.deepEqual(fourth.sent.get(C), first.sent.get(C));
  });
});
