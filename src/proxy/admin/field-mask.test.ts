import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { messageType } from '../../xds/protos.ts';
import { applyFieldMask, parseFieldMask } from './field-mask.ts';

const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const dynamicCluster = () => ({
  version_info: '3',
  cluster: { '@type': CLUSTER, name: 'c', connect_timeout: '1s', circuit_breakers: { thresholds: [{ max_connections: 5 }] }, metadata: { filter_metadata: { istio: { a: 1 } } } },
  last_updated: '2024-01-01T00:00:00.000Z',
});

describe('FieldMask on proto3 JSON (TrimMessage)', () => {
  const type = messageType('envoy.admin.v3.ClustersConfigDump.DynamicCluster');

  it('keeps only the named fields, following an Any into the message it holds', () => {
    assert.deepEqual(applyFieldMask(type, dynamicCluster(), parseFieldMask('cluster.name,last_updated')), {
      cluster: { '@type': CLUSTER, name: 'c' }, last_updated: '2024-01-01T00:00:00.000Z',
    });
    assert.deepEqual(applyFieldMask(type, dynamicCluster(), ['cluster.metadata.filter_metadata']), {
      cluster: { '@type': CLUSTER, metadata: { filter_metadata: { istio: { a: 1 } } } },
    });
    assert.deepEqual(applyFieldMask(type, dynamicCluster(), []), {}, 'an empty mask keeps nothing');
  });

  it('lets a shorter path win over a longer one, in either order', () => {
    const whole = dynamicCluster().cluster;
    assert.deepEqual(applyFieldMask(type, dynamicCluster(), ['cluster.name', 'cluster'])?.['cluster'], whole);
    assert.deepEqual(applyFieldMask(type, dynamicCluster(), ['cluster', 'cluster.name'])?.['cluster'], whole);
  });

  it('refuses a mask naming a field the type lacks, or indexing into a repeated field or a scalar', () => {
    assert.equal(applyFieldMask(type, dynamicCluster(), ['cluster.nam']), undefined);
    assert.equal(applyFieldMask(type, dynamicCluster(), ['versionInfo']), undefined, 'JSON names are not field names');
    assert.equal(applyFieldMask(type, dynamicCluster(), ['cluster.circuit_breakers.thresholds.max_connections']), undefined);
    assert.equal(applyFieldMask(type, dynamicCluster(), ['version_info.x']), undefined);
    assert.equal(applyFieldMask(type, dynamicCluster(), ['cluster', 'cluster.nope']), undefined, 'every path is checked');
  });
});
