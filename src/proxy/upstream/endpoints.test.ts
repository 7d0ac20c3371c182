import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TYPE } from '../../xds/type-urls.ts';
import { availability, compileAssignment, validateLoadAssignment } from './endpoints.ts';
import { Problems } from './proto-read.ts';
import { decoded, socketAddress } from './testing.ts';

describe('ClusterLoadAssignment', () => {
  it('groups endpoints by priority and locality, with weights and health', () => {
    const cla = decoded(TYPE.endpoint, {
      clusterName: 'c',
      endpoints: [
        { locality: { region: 'eu', zone: 'eu-1' }, loadBalancingWeight: { value: 3 }, lbEndpoints: [
          { endpoint: { ...socketAddress('10.0.0.1', 80), hostname: 'a.pod' }, loadBalancingWeight: { value: 2 } },
          { endpoint: socketAddress('10.0.0.2', 80), healthStatus: 'DRAINING' },
        ] },
        { locality: { region: 'us' }, priority: 1, lbEndpoints: [{ endpoint: socketAddress('::1', 81), healthStatus: 'DEGRADED' }] },
      ],
      policy: { overprovisioningFactor: { value: 200 }, weightedPriorityHealth: true },
    });
    const problems = new Problems();
    const a = compileAssignment(cla, '', problems, { requireIp: true });
    assert.deepEqual(problems.list, []);
    assert.equal(a.overprovisioningFactor, 200);
    assert.equal(a.weightedPriorityHealth, true);
    assert.deepEqual(a.groups.map((g) => [g.priority, g.key, g.weight]), [[0, 'eu/eu-1/', 3], [1, 'us//', undefined]]);
    assert.deepEqual(a.groups[0]!.endpoints, [
      { address: '10.0.0.1', port: 80, hostname: 'a.pod', weight: 2, health: 'UNKNOWN' },
      { address: '10.0.0.2', port: 80, hostname: '', weight: 1, health: 'DRAINING' },
    ]);
    assert.deepEqual(['UNKNOWN', 'HEALTHY', 'DEGRADED', 'UNHEALTHY', 'TIMEOUT', 'DRAINING'].map((s) => availability(s as 'UNKNOWN')), ['healthy', 'healthy', 'degraded', 'unhealthy', 'unhealthy', 'excluded']);
  });

  it('reports every invalid field', () => {
    const problems = validateLoadAssignment('c', {
      clusterName: 'other',
      endpoints: [
        { priority: 129, loadBalancingWeight: { value: 0 }, lbEndpoints: [
          { endpoint: { address: { socketAddress: { address: 'db.example', portValue: 70000 } } }, loadBalancingWeight: { value: 0 } },
          { endpoint: { address: { pipe: { path: '/tmp/s' } } } },
          { endpoint: { address: { socketAddress: { address: '10.0.0.1', namedPort: 'http' } } } },
          { endpointName: 'named' },
          { endpoint: {} },
          { endpoint: socketAddress('10.0.0.3', 80), healthStatus: 'SICK' },
        ] },
      ],
      policy: { dropOverloads: [{ category: 'x' }] },
    });
    assert.deepEqual(problems, [
      'clusterName: does not match the resource name "c"',
      'endpoints[0].priority: must be at most 128 (got 129)',
      'endpoints[0].loadBalancingWeight: must be at least 1',
      'endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.address: must be an IP address for this cluster type (got "db.example")',
      'endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.portValue: must be at most 65535 (got 70000)',
      'endpoints[0].lbEndpoints[0].loadBalancingWeight: must be at least 1',
      'endpoints[0].lbEndpoints[1].endpoint.address: only socket_address endpoints are supported',
      'endpoints[0].lbEndpoints[2].endpoint.address.socketAddress.namedPort: named ports are not supported (use port_value)',
      'endpoints[0].lbEndpoints[3].endpointName: named endpoints are not supported (use endpoint)',
      'endpoints[0].lbEndpoints[4].endpoint.address: required: socket_address',
      'endpoints[0].lbEndpoints[5].healthStatus: unknown value "SICK" (expected one of UNKNOWN, HEALTHY, UNHEALTHY, DRAINING, TIMEOUT, DEGRADED)',
      'policy.dropOverloads: drop_overloads is not supported',
    ]);
  });

  it('accepts an empty assignment and limits weight sums to 32 bits', () => {
    assert.deepEqual(validateLoadAssignment('c', { clusterName: 'c' }), []);
    const problems = validateLoadAssignment('c', { clusterName: 'c', endpoints: [{ lbEndpoints: [
      { endpoint: socketAddress('10.0.0.1', 1), loadBalancingWeight: { value: 4294967295 } },
      { endpoint: socketAddress('10.0.0.2', 1), loadBalancingWeight: { value: 1 } },
    ] }] });
    assert.deepEqual(problems, ['endpoints: the endpoint weights of priority 0 sum to 4294967296, more than 4294967295']);
  });
});
