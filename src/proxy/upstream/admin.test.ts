import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { clustersConfigDump, clustersJson, clustersText, endpointsConfigDump, healthFlags } from './admin.ts';
import type { Harness } from './testing.ts';
import { clusterResource, harness, loadAssignment } from './testing.ts';

describe('admin views', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  function setup(): Harness {
    const t = harness();
    t.clusters([
      clusterResource({ name: 'outbound|9080||reviews.default.svc.cluster.local', type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} } }, circuitBreakers: { thresholds: [{ maxConnections: { value: 100 } }] } }),
      clusterResource({ name: 'waiting', type: 'EDS' }),
    ]);
    t.endpoints([loadAssignment('outbound|9080||reviews.default.svc.cluster.local', [
      ['10.0.0.1', 9080, { loadBalancingWeight: { value: 3 } }],
      ['10.0.0.2', 9080, { healthStatus: 'UNHEALTHY' }],
    ])]);
    return t;
  }

  it('renders /clusters as Envoy\'s name::address::stat::value text', () => {
    h = setup();
    const text = clustersText(h.manager).split('\n');
    const c = 'outbound|9080||reviews.default.svc.cluster.local';
    for (const line of [
      `${c}::observability_name::${c}`,
      `${c}::default_priority::max_connections::100`,
      `${c}::default_priority::max_pending_requests::1024`,
      `${c}::high_priority::max_retries::3`,
      `${c}::added_via_api::true`,
      `${c}::eds_service_name::${c}`,
      `${c}::10.0.0.1:9080::cx_active::0`,
      `${c}::10.0.0.1:9080::rq_total::0`,
      `${c}::10.0.0.1:9080::health_flags::healthy`,
      `${c}::10.0.0.1:9080::weight::3`,
      `${c}::10.0.0.2:9080::health_flags::/failed_eds_health`,
      `${c}::10.0.0.2:9080::priority::0`,
      `${c}::10.0.0.2:9080::success_rate::-1`,
    ]) assert.ok(text.includes(line), line);
    assert.ok(text.indexOf(`${c}::observability_name::${c}`) < text.indexOf('waiting::observability_name::waiting'), 'clusters sorted by name');
    assert.equal(healthFlags('DRAINING'), '/eds_status_draining');
    assert.equal(healthFlags('DEGRADED'), '/degraded_eds_health');
  });

  it('renders /clusters?format=json', () => {
    h = setup();
    const json = clustersJson(h.manager) as { cluster_statuses: { name: string; host_statuses: { address: unknown; weight: number; health_status: unknown }[] }[] };
    const reviews = json.cluster_statuses.find((s) => s.name.startsWith('outbound'))!;
    assert.deepEqual(reviews.host_statuses.map((s) => [s.address, s.weight, s.health_status]), [
      [{ socket_address: { address: '10.0.0.1', port_value: 9080 } }, 3, { eds_health_status: 'HEALTHY' }],
      [{ socket_address: { address: '10.0.0.2', port_value: 9080 } }, 1, { eds_health_status: 'UNHEALTHY' }],
    ]);
  });

  it('dumps clusters (active and warming) and endpoints as Envoy\'s config_dump sections', () => {
    h = setup();
    type Entry = { cluster: Record<string, unknown>; version_info: string; last_updated: string };
    const dump = clustersConfigDump(h.manager, { clusters: '7' });
    assert.equal(dump['@type'], 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump');
    const active = dump['dynamic_active_clusters'] as Entry[];
    assert.equal(active.length, 1);
    assert.equal(active[0]!.cluster['@type'], 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
    assert.equal(active[0]!.cluster['name'], 'outbound|9080||reviews.default.svc.cluster.local');
    assert.deepEqual(active[0]!.cluster['circuit_breakers'], { thresholds: [{ max_connections: 100 }] });
    assert.equal(active[0]!.version_info, '7');
    assert.match(active[0]!.last_updated, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual((dump['dynamic_warming_clusters'] as Entry[]).map((e) => e.cluster['name']), ['waiting']);
    const eds = endpointsConfigDump(h.manager, { endpoints: () => 'v3' }) as { dynamic_endpoint_configs: { version_info: string; endpoint_config: Record<string, unknown> }[] };
    assert.equal(eds.dynamic_endpoint_configs[0]!.version_info, 'v3');
    assert.equal(eds.dynamic_endpoint_configs[0]!.endpoint_config['cluster_name'], 'outbound|9080||reviews.default.svc.cluster.local');
  });
});
