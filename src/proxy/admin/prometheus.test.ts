import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Stats } from '../core/stats.ts';
import { prometheusText, promName, statsText } from './prometheus.ts';

describe('Envoy stat names in Prometheus form', () => {
  it('turns scoped names into labels, keeping dots inside the scope', () => {
    assert.deepEqual(promName('cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_total'), {
      metric: 'envoy_cluster_upstream_rq_total', labels: '{cluster_name="outbound|9080||reviews.default.svc.cluster.local"}',
    });
    assert.deepEqual(promName('http.inbound_127.0.1.2_9080.downstream_rq_5xx'), {
      metric: 'envoy_http_downstream_rq_5xx', labels: '{envoy_http_conn_manager_prefix="inbound_127.0.1.2_9080"}',
    });
    assert.deepEqual(promName('cluster.outbound|9080||r.default.svc.cluster.local.circuit_breakers.default.cx_open'), {
      metric: 'envoy_cluster_circuit_breakers_default_cx_open', labels: '{cluster_name="outbound|9080||r.default.svc.cluster.local"}',
    });
    assert.deepEqual(promName('listener_manager.lds.update_success'), { metric: 'envoy_listener_manager_lds_update_success', labels: '' });
  });

  it('renders one TYPE line per metric and every sample', () => {
    const stats = new Stats();
    stats.counter('cluster.a.upstream_rq_total').value = 3;
    stats.counter('cluster.b.upstream_rq_total').value = 4;
    stats.gauge('server.live').value = 1;
    const text = prometheusText(stats);
    assert.equal(text, [
      '# TYPE envoy_cluster_upstream_rq_total counter',
      'envoy_cluster_upstream_rq_total{cluster_name="a"} 3',
      'envoy_cluster_upstream_rq_total{cluster_name="b"} 4',
      '# TYPE envoy_server_live gauge',
      'envoy_server_live 1',
      '',
    ].join('\n'));
    assert.equal(statsText(stats, /^cluster\.a/), 'cluster.a.upstream_rq_total: 3\n');
  });
});
