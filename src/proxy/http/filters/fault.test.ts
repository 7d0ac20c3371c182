import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stats } from '../../core/stats.ts';
import { STOP } from '../filter.ts';
import { FLAG } from '../stream-info.ts';
import { abortFor, delayFor, faultFilterFactory, parseFault, type FaultConfig } from './fault.ts';
import { fakeStream } from './testing.ts';

const NAME = 'envoy.filters.http.fault';
const ALL = { numerator: 100, denominator: 'HUNDRED' };

function fault(p: Record<string, unknown>): FaultConfig {
  const parsed = parseFault(p, '');
  assert.deepEqual(parsed.problems, []);
  return parsed.config;
}

function filter(global: Record<string, unknown> = {}, stats = new Stats()) {
  return faultFilterFactory.prepare(fault(global), { name: NAME, statPrefix: 'http.t.', stats })();
}

describe('fault filter', () => {
  it('reports every problem', () => {
    const p = parseFault({ delay: { percentage: ALL }, abort: { httpStatus: 100 }, responseRateLimit: { fixedLimit: { limitKbps: 1 } } }, 'x');
    assert.deepEqual(p.problems, [
      'x.delay: one of fixedDelay, headerDelay is required',
      'x.abort.httpStatus: must be in [200, 600) (got 100)',
      'x.responseRateLimit: response rate limiting is not supported',
    ]);
  });

  it('applies percentages (0 never, 100 always; million denominators)', () => {
    const never = fault({ abort: { httpStatus: 503, percentage: { numerator: 0 } } });
    const always = fault({ abort: { httpStatus: 503, percentage: { numerator: 1_000_000, denominator: 'MILLION' } } });
    for (let i = 0; i < 50; i++) {
      assert.equal(abortFor(never, fakeStream()), undefined);
      assert.deepEqual(abortFor(always, fakeStream()), { status: 503, grpcStatus: undefined });
    }
    const half = fault({ abort: { httpStatus: 503, percentage: { numerator: 50 } } });
    let hits = 0;
    for (let i = 0; i < 2000; i++) if (abortFor(half, fakeStream()) !== undefined) hits++;
    assert.ok(hits > 800 && hits < 1200, `${hits} of 2000 at 50%`);
  });

  it('header-controlled faults read x-envoy-fault-* headers, never exceeding the configured share', () => {
    const c = fault({ delay: { headerDelay: {}, percentage: ALL }, abort: { headerAbort: {}, percentage: ALL } });
    assert.equal(delayFor(c, fakeStream({ headers: { 'x-envoy-fault-delay-request': '25' } })), 25);
    assert.equal(delayFor(c, fakeStream()), 0);
    assert.deepEqual(abortFor(c, fakeStream({ headers: { 'x-envoy-fault-abort-grpc-request': '14' } })), { status: 200, grpcStatus: 14 });
    assert.equal(abortFor(c, fakeStream({ headers: { 'x-envoy-fault-abort-request': '503', 'x-envoy-fault-abort-request-percentage': '0' } })), undefined);
  });

  it('aborts with FI through a local reply; the per-route config replaces the global one', () => {
    const stats = new Stats();
    const s = fakeStream({ perRoute: { [NAME]: fault({ abort: { httpStatus: 429, percentage: ALL } }) } });
    assert.equal(filter({ abort: { httpStatus: 500, percentage: ALL } }, stats).decodeHeaders!(s), STOP);
    assert.equal(s.replies[0]?.status, 429);
    assert.equal(s.replies[0]?.flags, FLAG.FI);
    assert.equal(stats.counter('http.t.fault.aborts_injected').value, 1);
  });

  it('delays with DI, then aborts if configured', async () => {
    const stats = new Stats();
    const f = filter({ delay: { fixedDelay: { seconds: 0, nanos: 20_000_000 }, percentage: ALL }, abort: { grpcStatus: 14, percentage: ALL } }, stats);
    const s = fakeStream({ grpc: true });
    const r = f.decodeHeaders!(s);
    assert.ok(r instanceof Promise);
    assert.equal(stats.gauge('http.t.fault.active_faults').value, 1);
    assert.equal(await r, STOP);
    assert.ok(s.info.hasFlag(FLAG.DI));
    assert.equal(s.replies[0]?.grpcStatus, 14);
    f.onDestroy!(s);
    assert.equal(stats.gauge('http.t.fault.active_faults').value, 0);
  });

  it('limits faults to the upstream cluster, headers and downstream nodes', () => {
    const c = fault({ abort: { httpStatus: 503, percentage: ALL }, upstreamCluster: 'c1', headers: [{ name: 'x-test', presentMatch: true }], downstreamNodes: ['n1'] });
    const f = () => filter();
    const ok = { headers: { 'x-test': '1', 'x-envoy-downstream-service-node': 'n1' }, cluster: 'c1', perRoute: { [NAME]: c } };
    assert.equal(f().decodeHeaders!(fakeStream(ok)), STOP);
    assert.equal(f().decodeHeaders!(fakeStream({ ...ok, cluster: 'c2' })), undefined);
    assert.equal(f().decodeHeaders!(fakeStream({ ...ok, headers: { 'x-envoy-downstream-service-node': 'n1' } })), undefined);
    assert.equal(f().decodeHeaders!(fakeStream({ ...ok, headers: { 'x-test': '1' } })), undefined);
  });

  it('max_active_faults: over the limit, faults are skipped and counted', async () => {
    const stats = new Stats();
    const cfg = { delay: { fixedDelay: { seconds: 0, nanos: 30_000_000 }, percentage: ALL }, maxActiveFaults: { value: 1 } };
    const first = filter(cfg, stats);
    const s1 = fakeStream();
    const pending = first.decodeHeaders!(s1);
    assert.equal(filter(cfg, stats).decodeHeaders!(fakeStream()), undefined);
    assert.equal(stats.counter('http.t.fault.faults_overflow').value, 1);
    first.onDestroy!(s1);
    assert.equal(await pending, STOP);
  });
});
