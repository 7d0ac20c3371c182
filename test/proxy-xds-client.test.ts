/**
 * The proxy's xDS client against the control plane's real ADS server (over a fake resource server), in
 * both protocol variants: delta, and state of the world reached by fallback from a server without the
 * delta method. ACK, NACK with every problem while the last good config stays, RDS/EDS subscription
 * changes, absence after the initial fetch timeout, warming, reconnect to a restarted server with the
 * versions resent, and the node as the control plane parses it.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { XdsClient } from '../src/proxy/xds/index.ts';
import type { AdsMode, XdsClientOptions } from '../src/proxy/xds/index.ts';
import { parseBootstrap } from '../src/proxy/bootstrap.ts';
import { Stats } from '../src/proxy/core/stats.ts';
import { parseProxy } from '../src/control/proxy.ts';
import { TYPE } from '../src/xds/type-urls.ts';
import { TestXdsServer } from './support/xds-test-server.ts';
import { RecordingHandler, cluster, endpoints, firstPort, listener, routes } from './support/xds-handlers.ts';
import { waitFor } from './support/control-process.ts';

const FAST_BACKOFF = { initialMs: 20, maxMs: 100 };

const bootstrap = parseBootstrap('sidecar', { name: 'reviews-v1', ip: '127.0.1.5', labels: 'app=reviews,version=v1', ports: ['9080:41873'] }, {});

interface Rig {
  readonly server: TestXdsServer;
  readonly client: XdsClient;
  readonly lds: RecordingHandler;
  readonly cds: RecordingHandler;
  readonly rds: RecordingHandler;
  readonly eds: RecordingHandler;
  readonly logs: string[];
  readonly stats: Stats;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    r.client.close();
    await r.server.stop();
  }
});

async function rig(serverMode: AdsMode, options: Partial<XdsClientOptions> = {}, start = true): Promise<Rig> {
  const server = await TestXdsServer.start({ delta: serverMode === 'delta' });
  const fake = server.resources;
  fake.set(TYPE.listener, [listener('l1', 8080)]);
  fake.set(TYPE.cluster, [cluster('c1'), cluster('c2')]);
  fake.set(TYPE.route, [routes('r1', 'a.example')]);
  fake.set(TYPE.endpoint, [endpoints('c1', 9001), endpoints('c2', 9002)]);
  const logs: string[] = [];
  const stats = new Stats();
  const client = new XdsClient({ server: server.address, node: bootstrap.node, backoff: FAST_BACKOFF, log: (l) => logs.push(l), stats, ...options });
  const [lds, cds, rds, eds] = [TYPE.listener, TYPE.cluster, TYPE.route, TYPE.endpoint].map((t) => new RecordingHandler(t)) as [RecordingHandler, RecordingHandler, RecordingHandler, RecordingHandler];
  for (const h of [lds, cds, rds, eds]) client.register(h);
  const r = { server, client, lds, cds, rds, eds, logs, stats };
  rigs.push(r);
  if (start) client.start();
  return r;
}

/** The client's readiness, failing the test (instead of hanging it) after a guard time. */
function ready(client: XdsClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready: ${JSON.stringify(client.status())}`)), 10_000);
  });
  return Promise.race([client.ready, guard]).finally(() => clearTimeout(timer));
}

const acked = (server: TestXdsServer, typeUrl: string) => server.observer.waitFor((e) => e.kind === 'ack' && e.typeUrl === typeUrl);
const streamTypes = (server: TestXdsServer) => server.ads.status()[0]?.types ?? {};

for (const mode of ['delta', 'sotw'] as const) {
  describe(`xDS client, ${mode === 'delta' ? 'delta' : 'state of the world (fallback from delta)'}`, () => {
    it('applies the full Listener and Cluster sets, ACKs them and becomes ready', async () => {
      const { server, client, lds, cds } = await rig(mode);
      await ready(client);
      await acked(server, TYPE.listener);
      await acked(server, TYPE.cluster);
      assert.equal(client.status().protocol, mode);
      assert.equal(server.ads.status()[0]?.mode, mode);
      assert.deepEqual(lds.applies.map((a) => [[...a.resources.keys()], a.complete]), [[['l1'], true]]);
      assert.deepEqual(cds.names(), ['c1', 'c2']);
      for (const t of [TYPE.listener, TYPE.cluster]) assert.equal(streamTypes(server)[t]?.versionAcked, streamTypes(server)[t]?.versionSent);
      assert.equal(client.readiness().state, 'LIVE');
      if (mode === 'sotw') assert.equal(server.requests.filter((r) => r.method === 'delta').length, 0, 'the delta attempt never reaches a server without it');
    });

    it('NACKs a response naming every problem and keeps the last good config', async () => {
      const { server, client, lds } = await rig(mode);
      await ready(client);
      const goodVersion = client.status().types.find((t) => t.type === 'lds')!.version;
      lds.reject = (_name, r) => ((r as any).address.socketAddress.portValue === 1 ? ['address.socketAddress.portValue: port 1 is reserved'] : []);
      server.resources.set(TYPE.listener, [listener('l1', 1), listener('l2', 1), listener('l3', 8082)]);
      server.resources.push();
      const nack = await server.observer.waitFor((e) => e.kind === 'nack' && e.typeUrl === TYPE.listener);
      const message = String(nack.message);
      assert.match(message, /Listener l1: address\.socketAddress\.portValue: port 1 is reserved/);
      assert.match(message, /Listener l2: address\.socketAddress\.portValue: port 1 is reserved/);
      assert.doesNotMatch(message, /l3/);
      assert.deepEqual(lds.names(), ['l1']);
      assert.equal((lds.view.get('l1') as any).address.socketAddress.portValue, 8080);
      assert.equal(lds.applies.length, 1, 'nothing of the rejected response was applied');
      const status = client.status().types.find((t) => t.type === 'lds')!;
      assert.equal(status.version, goodVersion);
      assert.equal(status.lastNack?.message, message);
      assert.deepEqual(client.resources(TYPE.listener).map((r) => r.name), ['l1']);

      server.resources.set(TYPE.listener, [listener('l1', 8081), listener('l3', 8082)]);
      server.resources.push();
      await waitFor('the fixed listeners', () => (lds.names().join() === 'l1,l3' ? true : undefined));
      await waitFor('an ACK of the fix', () => (streamTypes(server)[TYPE.listener]?.versionAcked === streamTypes(server)[TYPE.listener]?.versionSent ? true : undefined));
    });

    it('follows RDS and EDS subscriptions set by the proxy', async () => {
      const { server, client, rds, eds } = await rig(mode);
      await ready(client);
      client.want(TYPE.route, new Set(['r1']));
      client.want(TYPE.endpoint, new Set(['c1']));
      await waitFor('r1 and c1', () => (rds.view.has('r1') && eds.view.has('c1') ? true : undefined));
      assert.deepEqual(eds.names(), ['c1'], 'only what was asked for');

      client.want(TYPE.endpoint, new Set(['c2']));
      assert.deepEqual(eds.applies.at(-1)?.removed, ['c1'], 'an ended subscription is removed at once');
      await waitFor('c2', () => (eds.view.has('c2') ? true : undefined));
      assert.deepEqual(eds.names(), ['c2']);
      await waitFor('the server to see the new subscription', () => (JSON.stringify(streamTypes(server)[TYPE.endpoint]?.subscribed) === '["c2"]' ? true : undefined));

      server.resources.set(TYPE.endpoint, [endpoints('c1', 9001), endpoints('c2', 9003)]);
      server.resources.push({ types: [TYPE.endpoint] });
      await waitFor('c2 updated', () => (firstPort(eds.view.get('c2')) === 9003 ? true : undefined));
      assert.deepEqual([...eds.applies.at(-1)!.resources.keys()], ['c2'], 'RDS/EDS applies carry what changed');
      assert.equal(eds.applies.at(-1)!.complete, false);
    });

    it('treats a wanted resource that never arrives as absent (after the initial fetch timeout)', async () => {
      const { client, eds, stats } = await rig(mode, { initialFetchTimeoutMs: 150 });
      await ready(client);
      client.want(TYPE.endpoint, new Set(['c1', 'nowhere']));
      await waitFor('nowhere to be removed', () => (eds.applies.some((a) => a.removed.includes('nowhere')) ? true : undefined));
      const status = client.status().types.find((t) => t.type === 'eds')!;
      assert.deepEqual(status.absent, ['nowhere']);
      assert.deepEqual(status.waiting, []);
      assert.deepEqual(client.readiness().waitingFor, []);
      // Delta servers say at once that a name does not exist; state of the world leaves only the timeout.
      assert.equal(stats.counter('xds.eds.init_fetch_timeout').value, mode === 'sotw' ? 1 : 0);
    });

    it(mode === 'sotw'
      ? 'keeps routes and endpoints missing from a response, but removes missing listeners and clusters'
      : 'removes what the server removes', async () => {
      const { server, client, lds, eds } = await rig(mode);
      await ready(client);
      client.want(TYPE.endpoint, new Set(['c1', 'c2']));
      await waitFor('c1 and c2', () => (eds.view.size === 2 ? true : undefined));
      server.resources.set(TYPE.endpoint, [endpoints('c2', 9005)]);
      server.resources.set(TYPE.listener, []);
      server.resources.push();
      await waitFor('c2 updated', () => (firstPort(eds.view.get('c2')) === 9005 ? true : undefined));
      await waitFor('listeners emptied', () => (lds.view.size === 0 ? true : undefined));
      assert.equal(lds.applies.at(-1)?.complete, true);
      if (mode === 'sotw') {
        assert.ok(eds.view.has('c1'), 'absence from a state-of-the-world EDS response is not deletion');
      } else {
        await waitFor('c1 removed', () => (!eds.view.has('c1') ? true : undefined));
        assert.deepEqual(client.status().types.find((t) => t.type === 'eds')!.absent, ['c1']);
      }
    });

    it('reconnects after the server restarts on the same port, resending the versions it holds', async () => {
      const r = await rig(mode);
      const { client, lds, eds } = r;
      await ready(client);
      client.want(TYPE.endpoint, new Set(['c1']));
      await waitFor('c1', () => (eds.view.has('c1') ? true : undefined));
      await waitFor('the EDS ACK', () => (streamTypes(r.server)[TYPE.endpoint]?.versionAcked !== undefined ? true : undefined));
      const ldsVersion = client.status().types.find((t) => t.type === 'lds')!.version;
      const applies = { lds: lds.applies.length, eds: eds.applies.length };
      const port = r.server.port;
      await r.server.stop();
      await waitFor('a few failed attempts', () => (client.status().state !== 'connected' && client.status().attempts >= 3 ? true : undefined));
      assert.deepEqual(lds.names(), ['l1'], 'the last good config stays while disconnected');

      const server = await TestXdsServer.start({ delta: mode === 'delta', port, resources: r.server.resources });
      rigs.push({ ...r, server });
      await waitFor('reconnected', () => (client.status().state === 'connected' ? true : undefined));
      for (const t of [TYPE.listener, TYPE.cluster, TYPE.endpoint]) await acked(server, t);
      const first = (t: string) => server.requestsOf(t)[0]!.req;
      if (mode === 'delta') {
        assert.deepEqual(Object.keys(first(TYPE.listener).initialResourceVersions), ['l1']);
        assert.deepEqual(Object.keys(first(TYPE.cluster).initialResourceVersions).sort(), ['c1', 'c2']);
        assert.deepEqual(Object.keys(first(TYPE.endpoint).initialResourceVersions), ['c1']);
        assert.deepEqual(first(TYPE.endpoint).subscribe, ['c1']);
      } else {
        assert.equal(first(TYPE.listener).versionInfo, ldsVersion);
        assert.deepEqual(first(TYPE.endpoint).resourceNames, ['c1']);
        assert.equal(server.requests.filter((q) => q.method === 'delta').length, 0, 'the fallback to state of the world is remembered');
      }
      assert.deepEqual({ lds: lds.applies.length, eds: eds.applies.length }, applies, 'unchanged resources are not applied again');
      assert.equal(r.logs.filter((l) => l.includes('ended')).length, 1, `one log line for the outage, not one per retry:\n${r.logs.join('\n')}`);
      assert.equal(r.logs.filter((l) => l.includes('does not offer delta')).length, mode === 'sotw' ? 1 : 0);

      server.resources.set(TYPE.listener, [listener('l1', 8080), listener('l9', 8089)]);
      server.resources.push();
      await waitFor('a change after the reconnect', () => (lds.view.has('l9') ? true : undefined));
    });
  });
}

describe('xDS client, warming and node', () => {
  it('becomes ready only once the routes and endpoints that listeners and clusters name arrived, and the proxy agrees', async () => {
    let proxyWarm = false;
    const { server, client, lds, cds, rds } = await rig('sotw', { initialFetchTimeoutMs: 60_000, warmed: () => proxyWarm }, false);
    server.resources.set(TYPE.endpoint, []);
    lds.after = () => client.want(TYPE.route, new Set([...lds.view.keys()].map((l) => l.replace('l', 'r'))));
    cds.after = () => client.want(TYPE.endpoint, new Set(cds.view.keys()));
    assert.equal(client.readiness().state, 'PRE_INITIALIZING');
    client.start();
    await waitFor('routes', () => (rds.view.has('r1') ? true : undefined));
    await waitFor('the CDS ACK', () => (streamTypes(server)[TYPE.cluster]?.versionAcked !== undefined ? true : undefined));
    assert.deepEqual(client.readiness(), { state: 'INITIALIZING', ready: false, waitingFor: ['eds c1', 'eds c2'] });

    const cdsAck = server.requests.findIndex((q) => q.req.typeUrl === TYPE.cluster && q.req.responseNonce !== '');
    const edsFirst = server.requests.findIndex((q) => q.req.typeUrl === TYPE.endpoint);
    assert.ok(cdsAck >= 0 && cdsAck < edsFirst, 'names wanted while a response is applied are requested after its ACK');

    server.resources.set(TYPE.endpoint, [endpoints('c1', 9001), endpoints('c2', 9002)]);
    server.resources.push({ types: [TYPE.endpoint] });
    await waitFor('waiting only for the proxy', () => (client.readiness().waitingFor.join() === 'proxy' ? true : undefined));
    proxyWarm = true;
    client.checkReady();
    await ready(client);
    assert.equal(client.readiness().state, 'LIVE');
  });

  it('announces a node the control plane parses into the workload it stands for', async () => {
    const { server, client } = await rig('delta');
    await ready(client);
    const node = server.resources.connected[0]!.node;
    const proxy = parseProxy(node);
    assert.equal(proxy.id, 'sidecar~127.0.1.5~reviews-v1.default~default.svc.cluster.local');
    assert.equal(proxy.kind, 'sidecar');
    assert.equal(proxy.ip, '127.0.1.5');
    assert.equal(proxy.namespace, 'default');
    assert.equal(proxy.workloadName, 'reviews-v1');
    assert.equal(proxy.serviceAccount, 'default');
    assert.deepEqual(proxy.labels, { app: 'reviews', version: 'v1' });
    assert.deepEqual(proxy.ports, [{ containerPort: 9080, protocol: 'TCP' }]);
    assert.deepEqual([...proxy.appPorts], [[9080, 41873]]);
    assert.equal(proxy.interceptionMode, 'NONE');
    assert.equal(node.userAgentName, 'weft');
    assert.equal(node.cluster, 'reviews.default');
    assert.equal(typeof node.metadata.ISTIO_VERSION, 'string');
  });

  it('speaks state of the world when told to, even to a server offering delta', async () => {
    const { server, client } = await rig('delta', { protocol: 'sotw' });
    await ready(client);
    assert.equal(client.status().protocol, 'sotw');
    assert.deepEqual([...new Set(server.requests.map((q) => q.method))], ['sotw']);
  });

  it('rejects wiring mistakes with typed errors', async () => {
    const { client } = await rig('delta', {}, false);
    assert.throws(() => client.want(TYPE.listener, new Set(['x'])), { code: 'XDS_CLIENT_WILDCARD' });
    assert.throws(() => client.want(TYPE.secret, new Set(['x'])), { code: 'XDS_CLIENT_UNKNOWN_TYPE' });
    assert.throws(() => client.register(new RecordingHandler(TYPE.listener)), { code: 'XDS_CLIENT_HANDLER' });
    client.start();
    assert.throws(() => client.start(), { code: 'XDS_CLIENT_STATE' });
    assert.throws(() => client.register(new RecordingHandler(TYPE.secret)), { code: 'XDS_CLIENT_HANDLER' });
  });
});
