import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listenerDependencies } from './dependencies.ts';

const hcm = (rds: string) => ({ name: 'hcm', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', rds: { routeConfigName: rds } } });
const tcp = (cfg: Record<string, unknown>) => ({ name: 'tcp', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', ...cfg } });

describe('listener dependencies (warming)', () => {
  it('collects RDS names and TCP proxy clusters from every chain and the default chain', () => {
    const deps = listenerDependencies({
      filterChains: [{ filters: [hcm('15001')] }, { filters: [tcp({ cluster: 'a' })] }, { filters: [hcm('15001')] }],
      defaultFilterChain: { filters: [tcp({ weightedClusters: { clusters: [{ name: 'b' }, { name: 'c' }] } })] },
    });
    assert.deepEqual(deps, { routes: ['15001'], clusters: ['a', 'b', 'c'] });
  });

  it('an inline route configuration or other filters need nothing', () => {
    assert.deepEqual(listenerDependencies({ filterChains: [{ filters: [{ name: 'x', typedConfig: { '@type': 'other' } }] }] }), { routes: [], clusters: [] });
  });
});
