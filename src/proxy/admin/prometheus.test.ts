import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Stats } from '../core/stats.ts';
import { prometheusText, promName, statsText } from './prometheus.ts';
import { parseStatsParams, selectStats } from './stats-params.ts';

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
    const text = prometheusText(stats.entries());
    assert.equal(text, [
      '# TYPE envoy_cluster_upstream_rq_total counter',
      'envoy_cluster_upstream_rq_total{cluster_name="a"} 3',
      'envoy_cluster_upstream_rq_total{cluster_name="b"} 4',
      '# TYPE envoy_server_live gauge',
      'envoy_server_live 1',
      '',
    ].join('\n'));
    assert.equal(statsText(selectStats(stats, { filter: (n) => n.startsWith('cluster.a') })), 'cluster.a.upstream_rq_total: 3\n');
  });
});

describe('/stats parameters (Envoy\'s StatsParams)', () => {
  const parse = (q: string) => parseStatsParams(new URLSearchParams(q));
  const select = (stats: Stats, q: string) => {
    const p = parse(q);
    assert.ok(!('error' in p), JSON.stringify(p));
    return selectStats(stats, p).map((e) => e.name);
  };

  it('usedonly keeps what was ever written: counters above zero, gauges set at least once (also back to 0)', () => {
    const stats = new Stats();
    stats.counter('c.untouched');
    stats.counter('c.counted').value++;
    stats.gauge('g.untouched');
    const active = stats.gauge('g.was_active');
    active.value++;
    active.value--;
    assert.deepEqual(select(stats, ''), ['c.counted', 'c.untouched', 'g.untouched', 'g.was_active']);
    assert.deepEqual(select(stats, 'usedonly'), ['c.counted', 'g.was_active']);
    assert.deepEqual(selectStats(stats, { usedOnly: true }).map((e) => [e.name, e.value]), [['c.counted', 1], ['g.was_active', 0]]);
  });

  it('filter is an RE2 search, combined with usedonly and type', () => {
    const stats = new Stats();
    stats.counter('cluster.a.upstream_rq_total').value = 2;
    stats.counter('cluster.a.upstream_rq_timeout');
    stats.gauge('cluster.a.upstream_cx_active').value = 1;
    stats.counter('http.x.downstream_rq_total').value = 1;
    assert.deepEqual(select(stats, 'filter=upstream_rq'), ['cluster.a.upstream_rq_timeout', 'cluster.a.upstream_rq_total']);
    assert.deepEqual(select(stats, 'filter=upstream_rq&usedonly'), ['cluster.a.upstream_rq_total']);
    assert.deepEqual(select(stats, 'filter=%5Ecluster%5C.&type=Gauges'), ['cluster.a.upstream_cx_active']);
    assert.deepEqual(select(stats, 'type=Counters&usedonly'), ['cluster.a.upstream_rq_total', 'http.x.downstream_rq_total']);
    assert.deepEqual(select(stats, 'type=Histograms'), []);
    // RE2 syntax, not JavaScript's: a lookahead is refused as Envoy refuses it.
    assert.deepEqual(parse('filter=a(?=b)'), { error: 'Invalid re2 regex' });
    assert.deepEqual(parse('type=counters'), { error: 'invalid &type= param' });
    assert.deepEqual(parse('format=xml'), { error: 'usage: /stats?format=(json|prometheus|text)\n' });
    assert.equal((parse('format=prometheus') as { format: string }).format, 'prometheus');
  });
});
