/**
 * The proxy's xDS client against the real control plane (`ControlPlane.start()`), in both protocol
 * variants: with a Service and a WorkloadEntry in its config, a sidecar built from the proxy's bootstrap
 * gets listeners, clusters, the routes its listeners name and the endpoints its clusters name, decodes
 * every one, and ACKs them all.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from '../src/control/control-plane.ts';
import { XdsClient } from '../src/proxy/xds/index.ts';
import type { Proto } from '../src/proxy/core/contracts.ts';
import { parseBootstrap } from '../src/proxy/bootstrap.ts';
import { TYPE } from '../src/xds/type-urls.ts';
import { RecordingHandler, firstPort } from './support/xds-handlers.ts';
import { waitFor } from './support/control-process.ts';

const CONFIG = `apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-1}
spec:
  address: 127.0.1.20
  labels: {app: reviews}
`;

const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';

/** Every `rds.routeConfigName` inside a decoded listener (HTTP connection managers in its filter chains). */
function routeNames(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) routeNames(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'rds' && typeof (v as { routeConfigName?: unknown }).routeConfigName === 'string') out.add((v as { routeConfigName: string }).routeConfigName);
      else routeNames(v, out);
    }
  }
  return out;
}

/** The EDS service names of the EDS clusters. */
function edsNames(clusters: Iterable<Proto>): Set<string> {
  const out = new Set<string>();
  for (const c of clusters as Iterable<any>) if (c.type === 'EDS') out.add(c.edsClusterConfig?.serviceName || c.name);
  return out;
}

describe('xDS client with weft control', () => {
  let dir: string;
  let state: string;
  let cp: ControlPlane;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-cfg-'));
    state = await mkdtemp(join(tmpdir(), 'weft-state-'));
    await writeFile(join(dir, 'mesh.yaml'), CONFIG);
    cp = await ControlPlane.start({ configDirs: [dir], stateDir: state, xds: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, debounceMs: 10, removalGraceMs: 50, log: () => {} });
  });
  after(async () => {
    await cp.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(state, { recursive: true, force: true });
  });

  for (const protocol of ['delta', 'sotw'] as const) {
    it(`gets listeners, clusters, routes and endpoints and ACKs them all (${protocol})`, async () => {
      const b = parseBootstrap('sidecar', { name: `productpage-${protocol}`, ip: protocol === 'delta' ? '127.0.1.21' : '127.0.1.22', labels: 'app=productpage', ports: ['9080'], control: `127.0.0.1:${cp.xdsPort}` }, {});
      const logs: string[] = [];
      const client = new XdsClient({ server: b.control, node: b.node, protocol, log: (l) => logs.push(l) });
      const [lds, cds, rds, eds] = [TYPE.listener, TYPE.cluster, TYPE.route, TYPE.endpoint].map((t) => new RecordingHandler(t)) as [RecordingHandler, RecordingHandler, RecordingHandler, RecordingHandler];
      lds.after = () => client.want(TYPE.route, routeNames([...lds.view.values()]));
      cds.after = () => client.want(TYPE.endpoint, edsNames(cds.view.values()));
      for (const h of [lds, cds, rds, eds]) client.register(h);
      client.start();
      try {
        await waitFor('ready', () => (client.readiness().ready ? true : undefined));
        assert.ok(lds.view.size > 0 && cds.view.size > 0, 'listeners and clusters');
        assert.ok(rds.view.size > 0, `routes named by listeners: ${[...routeNames([...lds.view.values()])].join(', ')}`);
        assert.ok(cds.view.has(REVIEWS));
        assert.equal(firstPort(eds.view.get(REVIEWS)), 9080);
        assert.equal((eds.view.get(REVIEWS) as any).endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.address, '127.0.1.20');
        assert.deepEqual(client.status().types.filter((t) => t.lastNack !== undefined), [], 'nothing the control plane sends is rejected');
        assert.equal(client.status().protocol, protocol);
        await waitFor('every type ACKed', () => {
          const types = cp.ads.status().find((s) => s.proxyId === b.node.id)?.types ?? {};
          const all = [TYPE.listener, TYPE.cluster, TYPE.route, TYPE.endpoint].every((t) => types[t]?.versionSent !== undefined && types[t]?.versionAcked === types[t]?.versionSent && types[t]?.nack === undefined);
          return all ? true : undefined;
        });
        assert.deepEqual(logs.filter((l) => l.includes('rejected')), []);
      } finally {
        client.close();
      }
    });
  }
});
