import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NetworkFilterFactory, Proto } from '../core/contracts.ts';
import { Stats } from '../core/stats.ts';
import { NetworkFilterRegistry, registerBuiltins } from '../network/index.ts';
import { encodeResource, decodeResource } from '../../xds/protos.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { registerBuiltinListenerFilters } from './builtins.ts';
import { compileListener } from './compile-listener.ts';
import type { CompileContext } from './compile-listener.ts';
import { compilePredicate, ListenerFilterRegistry } from './listener-filter.ts';

const TCP = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** A stand-in for the HCM factory another part registers into the same registry. */
const fakeHcm: NetworkFilterFactory = {
  typeUrl: HCM,
  validate: (c) => (c['statPrefix'] === undefined ? ['typedConfig.statPrefix: required'] : []),
  create: () => ({ onConnection: (info) => info.socket.destroy(), drain: () => {} }),
};

function ctx(): CompileContext {
  const networkFilters = registerBuiltins(new NetworkFilterRegistry());
  networkFilters.register(fakeHcm);
  return { networkFilters, listenerFilters: registerBuiltinListenerFilters(new ListenerFilterRegistry()), stats: new Stats() };
}

function compile(l: Proto): { problems: string[]; compiled: ReturnType<typeof compileListener> } {
  const problems: string[] = [];
  const compiled = compileListener(String(l['name']), l, ctx(), problems);
  return { problems, compiled };
}

const tcp = (cluster: string, statPrefix = 'p'): Proto => ({ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP, statPrefix, cluster } });

test('a decoded Listener (real proto round trip) compiles with its defaults', () => {
  const l = {
    name: '0.0.0.0_9080',
    address: { socketAddress: { address: '0.0.0.0', portValue: 9080 } },
    trafficDirection: 'OUTBOUND',
    listenerFilters: [{ name: 'envoy.filters.listener.tls_inspector', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } }],
    filterChains: [
      { filterChainMatch: { serverNames: ['a.example.com'] }, filters: [tcp('a')] },
      { filters: [{ name: 'hcm', typedConfig: { '@type': HCM, statPrefix: 'x', rds: { routeConfigName: '9080', configSource: { ads: {} } } } }] },
    ],
    bindToPort: { value: false },
  };
  const decoded = decodeResource(TYPE.listener, encodeResource(TYPE.listener, l));
  const { problems, compiled } = compile(decoded);
  assert.deepEqual(problems, []);
  assert.equal(compiled.host, '0.0.0.0');
  assert.equal(compiled.port, 9080);
  assert.equal(compiled.bindToPort, false);
  assert.equal(compiled.direction, 'OUTBOUND');
  assert.equal(compiled.listenerFiltersTimeoutMs, 15_000);
  assert.equal(compiled.listenerFilters.length, 1);
  assert.equal(compiled.chains[1]!.filter!.factory, fakeHcm, 'the HCM registered by another part is found by its type');
});

test('NACK material: unknown network and listener filters and every other problem, all at once', () => {
  const { problems } = compile({
    name: 'bad',
    address: { socketAddress: { address: 'localhost', portValue: 70000, protocol: 'UDP' } },
    listenerFilters: [
      { name: 'envoy.filters.listener.proxy_protocol', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol' } },
      { name: 'tls', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', initialReadBufferSize: { value: 1 } } },
    ],
    filterChains: [
      { filters: [{ name: 'rbac', typedConfig: { type_url: 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC', value: 'AA==' } }, tcp('c')] },
      { filterChainMatch: { destinationPort: { value: 1 } }, filters: [tcp('c'), tcp('d')] },
      { filterChainMatch: { destinationPort: { value: 2 } }, filters: [{ name: 'tcp', typedConfig: { '@type': TCP } }] },
      { filterChainMatch: { destinationPort: { value: 3 } }, filters: [{ name: 'x' }], transportSocket: { name: 'tls', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext' } } },
    ],
    udpListenerConfig: {},
  });
  const text = problems.join('\n');
  for (const want of [
    /^address\.socketAddress\.address: must be an IP address \(got 'localhost'\)$/m,
    /^address\.socketAddress\.portValue: must be 0-65535 \(got 70000\)$/m,
    /^address\.socketAddress\.protocol: UDP listeners are not supported/m,
    /^listenerFilters\[0\]\.typedConfig: unknown listener filter type envoy\.extensions\.filters\.listener\.proxy_protocol\.v3\.ProxyProtocol$/m,
    /^listenerFilters\[1\]\.typedConfig\.initialReadBufferSize: must be 256-65536/m,
    /^filterChains\[0\]\.filters\[0\]\.typedConfig: unknown network filter type envoy\.extensions\.filters\.network\.rbac\.v3\.RBAC \(known: .*TcpProxy.*\)$/m,
    /^filterChains\[1\]\.filters\[0\]: terminal filter envoy\.extensions\.filters\.network\.tcp_proxy\.v3\.TcpProxy must be the last filter/m,
    /^filterChains\[2\]\.filters\[0\]\.typedConfig\.statPrefix: must not be empty$/m,
    /^filterChains\[2\]\.filters\[0\]\.typedConfig: one of cluster or weightedClusters is required$/m,
    /^filterChains\[3\]\.filters\[0\]\.typedConfig: required/m,
    /^filterChains\[3\]\.transportSocket: envoy\.extensions\.transport_sockets\.tls\.v3\.DownstreamTlsContext is not supported yet/m,
    /^udpListenerConfig: not supported by weft$/m,
  ]) assert.match(text, want);
});

test('listeners need chains; api_listener listeners are accepted without an address', () => {
  assert.match(compile({ name: 'empty', address: { socketAddress: { address: '127.0.0.1', portValue: 1 } } }).problems.join(), /filterChains: at least one filter chain or a defaultFilterChain/);
  const api = compile({ name: 'reviews:9080', apiListener: { apiListener: { '@type': HCM, rds: {} } } });
  assert.deepEqual(api.problems, []);
  assert.equal(api.compiled.api, true);
  const onlyDefault = compile({ name: 'd', address: { socketAddress: { address: '127.0.0.1' } }, defaultFilterChain: { filters: [tcp('c')] } });
  assert.deepEqual(onlyDefault.problems, []);
  assert.equal(onlyDefault.compiled.port, 0);
  assert.deepEqual(compile({ name: 'v6', address: { socketAddress: { address: '::1', portValue: 1 } }, filterChains: [{ filters: [tcp('c')] }] }).problems, []);
});

test('the resource name must agree with the listener name', () => {
  const problems: string[] = [];
  compileListener('a', { name: 'b', address: { socketAddress: { address: '127.0.0.1', portValue: 1 } }, filterChains: [{ filters: [tcp('c')] }] }, ctx(), problems);
  assert.match(problems.join(), /^name: differs from the resource name 'a' \(got 'b'\)/);
});

test('chain keys ignore the match and name: equal filters share a runtime across versions', () => {
  const a = compile({ name: 'k', address: { socketAddress: { address: '127.0.0.1', portValue: 1 } }, filterChains: [{ name: 'one', filterChainMatch: { destinationPort: { value: 1 } }, filters: [tcp('c')] }] });
  const b = compile({ name: 'k', address: { socketAddress: { address: '127.0.0.1', portValue: 1 } }, filterChains: [{ name: 'two', filterChainMatch: { destinationPort: { value: 2 } }, filters: [tcp('c')] }] });
  const c = compile({ name: 'k', address: { socketAddress: { address: '127.0.0.1', portValue: 1 } }, filterChains: [{ filters: [tcp('d')] }] });
  assert.equal(a.compiled.chains[0]!.key, b.compiled.chains[0]!.key);
  assert.notEqual(a.compiled.chains[0]!.key, c.compiled.chains[0]!.key);
});

test('filter_disabled predicates: port ranges (end exclusive), and/or/not, any', () => {
  const problems: string[] = [];
  const p = compilePredicate({ orMatch: { rules: [
    { destinationPortRange: { start: 80, end: 81 } },
    { andMatch: { rules: [{ notMatch: { destinationPortRange: { start: 0, end: 9000 } } }, { destinationPortRange: { start: 9000, end: 9100 } }] } },
  ] } }, 'filterDisabled', problems);
  assert.deepEqual(problems, []);
  assert.deepEqual([80, 81, 9000, 9099, 9100].map(p), [true, false, true, true, false]);
  assert.equal(compilePredicate({ anyMatch: true }, 'x', problems)(1), true);
  compilePredicate({ orMatch: { rules: [{ anyMatch: true }] } }, 'x', problems);
  compilePredicate({}, 'y', problems);
  assert.match(problems.join('\n'), /x\.orMatch\.rules: at least two rules/);
  assert.match(problems.join('\n'), /y: one of orMatch/);
});
