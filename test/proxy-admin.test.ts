/**
 * The admin endpoint of a real proxy fed by an ADS server, read as Envoy's admin API is read (istioctl
 * proxy-config, scripts written against Envoy): `/config_dump` in proto3 JSON under the protos' own
 * field names with `?resource=`, `?mask=` and `?name_regex=`; `/stats` with `usedonly`, `filter`,
 * `type` and `format`; `/logging` with per-logger levels.
 * https://www.envoyproxy.io/docs/envoy/latest/operations/admin
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import type { Type } from 'protobufjs';
import { Proxy } from '../src/proxy/proxy.ts';
import { parseBootstrap } from '../src/proxy/bootstrap.ts';
import { findMessageType, jsToStruct, messageType } from '../src/xds/protos.ts';
import { TYPE } from '../src/xds/type-urls.ts';
import { TestXdsServer } from './support/xds-test-server.ts';
import { closedPort } from './support/tcp-servers.ts';
import { waitFor } from './support/control-process.ts';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

const listener = (name: string, port: number) => ({
  name,
  address: { socketAddress: { address: '127.0.0.1', portValue: port } },
  filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: {
    '@type': HCM,
    statPrefix: name, rds: { routeConfigName: 'rc', configSource: { ads: {}, resourceApiVersion: 'V3' } },
    httpFilters: [
      { name: 'envoy.filters.http.fault', typedConfig: { '@type': FAULT } },
      { name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER, suppressEnvoyHeaders: true } },
    ],
  } }] }],
});

const direct = { match: { prefix: '/' }, directResponse: { status: 200, body: { inlineString: 'ok' } } };

const cluster = (name: string) => ({
  name,
  type: 'STATIC',
  connectTimeout: { seconds: 1 },
  metadata: { filterMetadata: { istio: jsToStruct({ someKey: { innerCamel: 'x' } }) } },
  loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 1 } } } }] }] },
});

/**
 * Every key of `json` (a message of `type` in proto3 JSON) that is not the proto name of a field,
 * following messages, lists, map values and Any contents, but not map keys nor the JSON forms of the
 * well-known types (Struct contents are the user's keys). Independent of the code under test.
 */
function nonProtoKeys(type: Type, json: unknown, path = ''): string[] {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return [];
  const full = type.fullName;
  if (full === '.google.protobuf.Any') {
    const { '@type': url, ...rest } = json as Record<string, unknown>;
    const inner = findMessageType(String(url));
    if (inner === undefined) return [`${path}: unknown @type ${String(url)}`];
    return inner.fullName.startsWith('.google.protobuf.') ? [] : nonProtoKeys(inner, rest, path);
  }
  if (full.startsWith('.google.protobuf.')) return [];
  const bad: string[] = [];
  for (const [key, value] of Object.entries(json)) {
    const field = type.fieldsArray.find((f) => (f as unknown as { protoName?: string }).protoName === key);
    if (field === undefined) {
      bad.push(`${path}.${key}`);
      continue;
    }
    const t = field.resolve().resolvedType;
    if (!(t instanceof protobuf.Type)) continue;
    const values = field.map ? Object.values(value as object) : field.repeated ? (value as unknown[]) : [value];
    for (const v of values) bad.push(...nonProtoKeys(t, v, `${path}.${key}`));
  }
  return bad;
}

describe('admin endpoint (a real proxy against an ADS server)', () => {
  let server: TestXdsServer;
  let proxy: Proxy;
  let admin: string;
  const lines: string[] = [];
  const get = async (path: string, method = 'GET') => {
    const res = await fetch(`${admin}${path}`, { method });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
  };
  const post = (path: string) => get(path, 'POST');
  const dump = async (query = '') => JSON.parse((await get(`/config_dump${query}`)).body) as { configs: Record<string, any>[] };

  before(async () => {
    server = await TestXdsServer.start({ delta: true });
    server.resources.set(TYPE.listener, [listener('http', await closedPort()), listener('other', await closedPort())]);
    server.resources.set(TYPE.cluster, [cluster('outbound|9080||reviews.default.svc.cluster.local'), cluster('outbound|9080||ratings.default.svc.cluster.local')]);
    server.resources.set(TYPE.route, [{
      name: 'rc',
      vhds: { configSource: { ads: {}, resourceApiVersion: 'V3' } },
      virtualHosts: [{
        name: 'inline', domains: ['inline'], routes: [direct],
        requestHeadersToAdd: [{ header: { key: 'X-Custom_Header', value: 'v' } }],
        typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': FAULT, maxActiveFaults: { value: 3 }, abort: { httpStatus: 503, percentage: { numerator: 100 } } } },
      }],
    }]);
    server.resources.set(TYPE.virtualHost, [{ name: 'rc/reviews:9080', domains: ['reviews:9080'], routes: [{ ...direct, requestHeadersToRemove: ['x-Drop_Me'] }] }]);
    const bootstrap = parseBootstrap('sidecar', { control: server.address, name: 'w', ip: '127.0.0.1' }, {});
    proxy = await Proxy.start({ bootstrap, ports: { admin: 0, health: 0, prometheus: 0 }, logSink: (l) => lines.push(l), drainTimeoutMs: 100, protocol: 'delta' });
    admin = proxy.urls.admin;
    await proxy.whenReady();
  });
  after(async () => {
    await proxy?.stop(false);
    await server?.stop();
  });

  describe('/config_dump', () => {
    it('writes every resource under the protos\' field names, keeping map keys, Struct contents and header names', async () => {
      const d = await dump('?include_eds');
      const configDump = messageType('envoy.admin.v3.ConfigDump');
      assert.deepEqual(nonProtoKeys(configDump, d), []);
      const of = (t: string) => d.configs.find((c) => c['@type'] === `type.googleapis.com/envoy.admin.v3.${t}`)!;
      assert.deepEqual(d.configs.map((c) => c['@type'].split('.').at(-1)), ['BootstrapConfigDump', 'ClustersConfigDump', 'EndpointsConfigDump', 'ListenersConfigDump', 'RoutesConfigDump']);

      const rc = of('RoutesConfigDump').dynamic_route_configs[0].route_config;
      assert.equal(rc['@type'], 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration');
      assert.equal(rc.virtualHosts, undefined);
      // Inline virtual hosts, then those VHDS sent, in one `virtual_hosts` list, all in the same style.
      assert.deepEqual(rc.virtual_hosts.map((v: { name: string }) => v.name), ['inline', 'rc/reviews:9080']);
      const [inline, fromVhds] = rc.virtual_hosts;
      assert.deepEqual(inline.request_headers_to_add, [{ header: { key: 'X-Custom_Header', value: 'v' } }]);
      assert.deepEqual(inline.typed_per_filter_config, {
        'envoy.filters.http.fault': { '@type': FAULT, abort: { http_status: 503, percentage: { numerator: 100 } }, max_active_faults: 3 },
      });
      assert.deepEqual(fromVhds.routes[0].request_headers_to_remove, ['x-Drop_Me']);
      assert.deepEqual(fromVhds.routes[0].direct_response, { status: 200, body: { inline_string: 'ok' } });

      const l = of('ListenersConfigDump').dynamic_listeners.find((x: { name: string }) => x.name === 'http');
      const hcm = l.active_state.listener.filter_chains[0].filters[0].typed_config;
      assert.equal(hcm['@type'], HCM);
      assert.equal(hcm.stat_prefix, 'http');
      assert.deepEqual(hcm.http_filters[1], { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER, suppress_envoy_headers: true } });
      assert.deepEqual(hcm.rds.config_source, { ads: {}, resource_api_version: 'V3' });

      const c = of('ClustersConfigDump').dynamic_active_clusters[0].cluster;
      assert.equal(c.connect_timeout, '1s');
      assert.deepEqual(c.metadata, { filter_metadata: { istio: { someKey: { innerCamel: 'x' } } } });
      assert.equal(c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, 1);
    });

    it('?resource= gives the elements of that repeated field, each with its own @type', async () => {
      const d = await dump('?resource=dynamic_active_clusters');
      assert.equal(d.configs.length, 2);
      for (const c of d.configs) {
        assert.equal(c['@type'], 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster');
        assert.equal(c.cluster['@type'], 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
      }
      const listeners = await dump('?resource=dynamic_listeners');
      assert.deepEqual(listeners.configs.map((c) => c.name), ['http', 'other']);
      assert.equal((await get('/config_dump?resource=static_endpoint_configs')).status, 404, 'endpoints only with include_eds');
      assert.deepEqual((await dump('?resource=static_endpoint_configs&include_eds')).configs.map((c) => c.endpoint_config.cluster_name).sort(), ['outbound|9080||ratings.default.svc.cluster.local', 'outbound|9080||reviews.default.svc.cluster.local']);
      assert.deepEqual(await get('/config_dump?resource=nope'), { status: 404, type: 'text/plain; charset=utf-8', body: 'nope not found in config dump\n' });
      const scalar = await get('/config_dump?resource=version_info');
      assert.equal(scalar.status, 400);
      assert.equal(scalar.body, 'version_info is not a repeated field. Use ?mask=version_info to get only this field\n');
    });

    it('?mask= trims each element of a resource, or each dump message it fits', async () => {
      const d = await dump('?resource=dynamic_active_clusters&mask=cluster.name,version_info');
      assert.deepEqual(d.configs.map((c) => Object.keys(c).sort()), [['@type', 'cluster', 'version_info'], ['@type', 'cluster', 'version_info']]);
      assert.deepEqual(d.configs.map((c) => c.cluster).sort((a, b) => (a.name < b.name ? -1 : 1)), [
        { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'outbound|9080||ratings.default.svc.cluster.local' },
        { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'outbound|9080||reviews.default.svc.cluster.local' },
      ]);
      // Through the Any inside a nested message (Envoy itself only masks a resource's top-level Any).
      const names = await dump('?resource=dynamic_listeners&mask=name,active_state.listener.address');
      assert.deepEqual(names.configs[0], {
        '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener',
        name: 'http',
        active_state: { listener: { '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', address: { socket_address: { address: '127.0.0.1', port_value: names.configs[0]!.active_state.listener.address.socket_address.port_value } } } },
      });
      const bad = await get('/config_dump?resource=dynamic_active_clusters&mask=cluster.nam');
      assert.equal(bad.status, 400);
      assert.equal(bad.body, 'FieldMask paths: "cluster.nam"\n could not be successfully used.\n');

      // Without resource: kept where the mask fits (only ClustersConfigDump has dynamic_active_clusters).
      const whole = await dump('?mask=dynamic_active_clusters');
      assert.deepEqual(whole.configs.map((c) => Object.keys(c)), [['@type', 'dynamic_active_clusters']]);
      assert.equal(whole.configs[0]!['@type'], 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump');
      const versions = await dump('?mask=version_info');
      assert.deepEqual(versions.configs.map((c) => c['@type'].split('.').at(-1)), ['ClustersConfigDump', 'ListenersConfigDump']);
      const none = await get('/config_dump?mask=nothing_has_this');
      assert.equal(none.status, 400);
      assert.equal(none.body, 'FieldMask nothing_has_this could not be successfully applied to any configs.\n');
      const repeated = await get('/config_dump?mask=dynamic_active_clusters.cluster');
      assert.equal(repeated.status, 400, 'a mask cannot index into a repeated field');
    });

    it('?name_regex= keeps the resources whose whole name matches (RE2)', async () => {
      const d = await dump('?name_regex=.*reviews.*&include_eds');
      const of = (t: string) => d.configs.find((c) => c['@type'] === `type.googleapis.com/envoy.admin.v3.${t}`)!;
      assert.deepEqual(of('ClustersConfigDump').dynamic_active_clusters.map((c: any) => c.cluster.name), ['outbound|9080||reviews.default.svc.cluster.local']);
      assert.deepEqual(of('EndpointsConfigDump').dynamic_endpoint_configs.map((c: any) => c.endpoint_config.cluster_name), []);
      assert.deepEqual(of('EndpointsConfigDump').static_endpoint_configs.map((c: any) => c.endpoint_config.cluster_name), ['outbound|9080||reviews.default.svc.cluster.local']);
      assert.deepEqual(of('ListenersConfigDump').dynamic_listeners, []);
      assert.deepEqual(of('RoutesConfigDump').dynamic_route_configs, []);
      assert.deepEqual((await dump('?resource=dynamic_listeners&name_regex=ht')).configs, [], 'a whole-name match, not a search');
      assert.deepEqual((await dump('?resource=dynamic_listeners&name_regex=ht.*&mask=name')).configs.map((c) => c.name), ['http']);
      const bad = await get('/config_dump?name_regex=(');
      assert.equal(bad.status, 400);
      assert.match(bad.body, /^INVALID_ARGUMENT: Error while parsing name_regex from \(: /);
    });
  });

  describe('/stats', () => {
    const REVIEWS_RQ = 'cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_total';

    it('usedonly leaves out what was never written; filter, type and format combine with it', async () => {
      const all = (await get('/stats')).body.trim().split('\n');
      const used = (await get('/stats?usedonly')).body.trim().split('\n');
      assert.ok(all.includes(`${REVIEWS_RQ}: 0`), 'the never-used counter is listed without usedonly');
      assert.ok(!used.some((l) => l.startsWith(`${REVIEWS_RQ}:`)), used.join('\n'));
      assert.ok(used.length > 0 && used.length < all.length && used.every((l) => all.includes(l)), `${used.length} of ${all.length}`);
      assert.ok(used.includes('cluster_manager.cds.update_success: 1'), used.join('\n'));

      const lds = (await get('/stats?usedonly&filter=%5Elistener_manager%5C.')).body.trim().split('\n');
      assert.ok(lds.length > 0 && lds.every((l) => l.startsWith('listener_manager.')), lds.join('\n'));
      const gauges = JSON.parse((await get('/stats?format=json&type=Gauges&filter=total_listeners_active')).body) as { stats: { name: string; value: number }[] };
      assert.deepEqual(gauges.stats, [{ name: 'listener_manager.total_listeners_active', value: 2 }]);

      const prom = await fetch(`${proxy.urls.prometheus}/stats/prometheus?usedonly&filter=upstream_rq_total%7Ccds%5C.update_success`).then((r) => r.text());
      assert.equal(prom, '# TYPE envoy_cluster_manager_cds_update_success counter\nenvoy_cluster_manager_cds_update_success 1\n');
      const asProm = await get('/stats?format=prometheus&filter=upstream_rq_total');
      assert.equal(asProm.type, 'text/plain; version=0.0.4; charset=utf-8');
      assert.match(asProm.body, /^envoy_cluster_upstream_rq_total\{cluster_name="outbound\|9080\|\|reviews\.default\.svc\.cluster\.local"\} 0$/m);

      assert.deepEqual([(await get('/stats?filter=(')).status, (await get('/stats?filter=(')).body], [400, 'Invalid re2 regex\n']);
      assert.equal((await get('/stats?type=nope')).status, 400);
    });
  });

  describe('/logging', () => {
    const levelOf = (listing: string, name: string) => new RegExp(`^  ${name}: (\\w+)$`, 'm').exec(listing)?.[1];

    it('lists Envoy\'s loggers for the parts weft has, and sets one, several or all of them', async () => {
      const listing = (await get('/logging')).body;
      assert.match(listing, /^active loggers:\n/);
      for (const name of ['admin', 'config', 'conn_handler', 'connection', 'http', 'http2', 'main', 'pool', 'router', 'upstream']) assert.equal(levelOf(listing, name), 'info', name);

      const one = await post('/logging?router=debug');
      assert.equal(one.status, 200);
      assert.equal(levelOf(one.body, 'router'), 'debug');
      assert.equal(levelOf(one.body, 'http'), 'info', 'the others keep their level');
      assert.ok(lines.includes("change log level: name='router' level='debug'"), lines.join('\n'));

      const several = (await post('/logging?paths=http:trace,http2:error')).body;
      assert.deepEqual([levelOf(several, 'http'), levelOf(several, 'http2'), levelOf(several, 'router')], ['trace', 'error', 'debug']);

      const all = (await post('/logging?level=warning')).body;
      assert.ok(['admin', 'router', 'http2', 'main'].every((n) => levelOf(all, n) === 'warning'), all);
      await post('/logging?level=info');
    });

    it('refuses an unknown logger or level (400, nothing changed) and a change by GET (405)', async () => {
      const unknown = await post('/logging?nope=debug');
      assert.equal(unknown.status, 400);
      assert.match(unknown.body, /^error: unknown logger name\n\nusage: \/logging\?<name>=<level> \(change single level\)\n/);
      assert.match(unknown.body, /^levels: trace debug info warning error critical off $/m);
      const badLevel = await post('/logging?router=loud');
      assert.equal(badLevel.status, 400);
      assert.match(badLevel.body, /^error: unknown logger level\n/);
      assert.match((await post('/logging?level=loud')).body, /^error: unknown logger level\n/);
      const mixed = await post('/logging?paths=router:debug,nope:debug');
      assert.equal(mixed.status, 400);
      assert.match((await post('/logging?router=debug&http=debug')).body, /^error: invalid number of parameters\n/);
      const byGet = await get('/logging?router=debug');
      assert.equal(byGet.status, 405);
      const after = (await get('/logging')).body;
      assert.equal(levelOf(after, 'router'), 'info', 'nothing changed');
    });

    it('a logger\'s level applies to its part at once: config silences xDS and listener updates only', async () => {
      const port = await closedPort();
      await post('/logging?config=warning');
      const before = lines.length;
      server.resources.set(TYPE.listener, [listener('http', await closedPort()), listener('other', await closedPort()), listener('quiet', port)]);
      server.resources.push({ types: [TYPE.listener] });
      await waitFor('listener quiet', () => (proxy.listeners.status('quiet')?.state === 'active' ? true : undefined));
      assert.deepEqual(lines.slice(before).filter((l) => l.includes('quiet')), []);
      await post('/logging?config=info');
      server.resources.set(TYPE.listener, [listener('http', await closedPort()), listener('other', await closedPort()), listener('quiet', port), listener('loud', await closedPort())]);
      server.resources.push({ types: [TYPE.listener] });
      await waitFor('a config line about listener loud', () => (lines.some((l) => l.startsWith('listener loud')) ? true : undefined));
    });
  });
});
