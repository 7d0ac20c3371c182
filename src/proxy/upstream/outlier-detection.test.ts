import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Stats } from '../core/stats.ts';
import { compileOutlierDetection, type OutlierConfig } from './outlier-config.ts';
import { HostMonitor, OutlierDetector, successRateThreshold, type MonitoredHost } from './outlier-detection.ts';
import { Problems } from './proto-read.ts';

/** Envoy's defaults with `fields` (decoded-proto shape) on top. */
function config(fields: Record<string, unknown> = {}): OutlierConfig {
  const problems = new Problems();
  const c = compileOutlierDetection({ outlierDetection: fields }, problems);
  assert.deepEqual(problems.list, []);
  return c!;
}

interface Fixture {
  readonly detector: OutlierDetector;
  readonly hosts: MonitoredHost[];
  readonly stats: Stats;
  /** Health changes the cluster was told about. */
  readonly changes: { count: number };
  monitor(i: number): HostMonitor;
  stat(name: string): number;
  ejected(): number[];
}

/** A detector over `n` hosts, on mocked timers (setTimeout and Date; the detector's clock is Date.now). */
function fixture(t: TestContext, n: number, fields: Record<string, unknown> = {}, random = () => 0): Fixture {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const stats = new Stats();
  const changes = { count: 0 };
  const detector = new OutlierDetector(config(fields), { stats, prefix: 'cluster.c.', now: () => Date.now(), random, onHealthChange: () => changes.count++ });
  t.after(() => detector.retire());
  const hosts: MonitoredHost[] = Array.from({ length: n }, () => ({ outlier: undefined }));
  detector.setHosts(hosts);
  return {
    detector, hosts, stats, changes,
    monitor: (i) => hosts[i]!.outlier!,
    stat: (name) => (name === 'ejections_active' ? stats.gauge(`cluster.c.outlier_detection.${name}`) : stats.counter(`cluster.c.outlier_detection.${name}`)).value,
    ejected: () => hosts.flatMap((h, i) => (h.outlier?.ejected === true ? [i] : [])),
  };
}

const statuses = (m: HostMonitor, ...codes: number[]): void => codes.forEach((c) => m.putHttpStatus(c));

describe('outlier detection: consecutive errors', () => {
  it('ejects a host at its consecutive_5xx-th 5xx, not before, and a success resets the count', (t) => {
    const f = fixture(t, 3, { consecutive_5xx: { value: 3 }, maxEjectionPercent: { value: 100 } });
    statuses(f.monitor(0), 500, 503, 200, 500, 502);
    assert.deepEqual(f.ejected(), [], 'two, a success, then two: never three in a row');
    f.monitor(0).putHttpStatus(500);
    assert.deepEqual(f.ejected(), [0]);
    assert.equal(f.changes.count, 1, 'the cluster is told at once');
    assert.equal(f.stat('ejections_active'), 1);
    assert.equal(f.stat('ejections_detected_consecutive_5xx'), 1);
    assert.equal(f.stat('ejections_enforced_consecutive_5xx'), 1);
    assert.equal(f.stat('ejections_enforced_total'), 1);
    assert.equal(f.stat('ejections_total'), 1);
  });

  it('detects consecutive gateway failures (502/503/504) but enforces them only when asked to', (t) => {
    const f = fixture(t, 2, { consecutive_5xx: { value: 0 }, consecutiveGatewayFailure: { value: 2 }, maxEjectionPercent: { value: 100 } });
    statuses(f.monitor(0), 503, 500, 504);
    assert.equal(f.stat('ejections_detected_consecutive_gateway_failure'), 0, 'a 500 breaks a run of gateway failures');
    f.monitor(0).putHttpStatus(502);
    assert.equal(f.stat('ejections_detected_consecutive_gateway_failure'), 1);
    assert.deepEqual(f.ejected(), [], 'enforcing_consecutive_gateway_failure defaults to 0');
    t.mock.timers.reset();
    const g = fixture(t, 2, { consecutive_5xx: { value: 0 }, consecutiveGatewayFailure: { value: 2 }, enforcingConsecutiveGatewayFailure: { value: 100 }, maxEjectionPercent: { value: 100 } });
    statuses(g.monitor(1), 503, 504);
    assert.deepEqual(g.ejected(), [1]);
    assert.equal(g.stat('ejections_enforced_consecutive_gateway_failure'), 1);
  });

  it('counts connect failures, resets and timeouts as 503/504 without the split, and apart with it', (t) => {
    const f = fixture(t, 2, { consecutive_5xx: { value: 3 }, maxEjectionPercent: { value: 100 } });
    const m = f.monitor(0);
    m.putResult('connect-failed');
    m.putResult('connect-success');
    m.putResult('timeout');
    m.putHttpStatus(500);
    assert.deepEqual(f.ejected(), [0], 'a connect success says nothing; the failures count as 5xx');
    t.mock.timers.reset();
    const s = fixture(t, 2, { splitExternalLocalOriginErrors: true, consecutive_5xx: { value: 2 }, consecutiveLocalOriginFailure: { value: 2 }, maxEjectionPercent: { value: 100 } });
    const a = s.monitor(0);
    a.putResult('connect-failed');
    a.putResult('connect-success');
    a.putResult('timeout');
    a.putHttpStatus(500);
    assert.deepEqual(s.ejected(), [], 'a connection resets the local-origin count; 5xx and local failures are counted apart');
    a.putResult('connect-failed');
    assert.deepEqual(s.ejected(), [0]);
    assert.equal(s.stat('ejections_enforced_consecutive_local_origin_failure'), 1);
    assert.equal(s.stat('ejections_detected_consecutive_5xx'), 0);
  });
});

describe('outlier detection: max_ejection_percent', () => {
  it('ejects while (ejected + 1) / hosts stays within the percentage, and counts the overflow', (t) => {
    const f = fixture(t, 4, { consecutive_5xx: { value: 1 }, maxEjectionPercent: { value: 50 } });
    for (let i = 0; i < 4; i++) f.monitor(i).putHttpStatus(500);
    assert.deepEqual(f.ejected(), [0, 1]);
    assert.equal(f.stat('ejections_overflow'), 2);
    assert.equal(f.stat('ejections_detected_consecutive_5xx'), 4);
  });

  it('ejects nothing from 3 hosts at the default 10 % unless always_eject_one_host', (t) => {
    const f = fixture(t, 3, { consecutive_5xx: { value: 1 } });
    f.monitor(0).putHttpStatus(500);
    assert.deepEqual(f.ejected(), []);
    assert.equal(f.stat('ejections_overflow'), 1);
    t.mock.timers.reset();
    const g = fixture(t, 3, { consecutive_5xx: { value: 1 }, alwaysEjectOneHost: { value: true } });
    g.monitor(0).putHttpStatus(500);
    g.monitor(1).putHttpStatus(500);
    assert.deepEqual(g.ejected(), [0], 'one host, never a second');
  });
});

describe('outlier detection: ejection time', () => {
  it('returns a host at the first interval tick after base × back-off; the back-off grows with each ejection, up to max_ejection_time', (t) => {
    const f = fixture(t, 2, { consecutive_5xx: { value: 1 }, maxEjectionPercent: { value: 100 }, interval: { nanos: 100_000_000 }, baseEjectionTime: { seconds: 1 }, maxEjectionTime: { seconds: 2 } });
    const m = f.monitor(0);
    const ejectedFor = (): number => {
      m.putHttpStatus(503);
      assert.equal(m.ejected, true);
      let ms = 0;
      while (m.ejected) {
        t.mock.timers.tick(100);
        ms += 100;
        assert.ok(ms <= 10_000, 'never came back');
      }
      return ms;
    };
    t.mock.timers.tick(50); // ejections land between ticks
    assert.equal(ejectedFor(), 1000);
    assert.equal(f.changes.count, 2, 'ejection and return');
    assert.equal(f.stat('ejections_active'), 0);
    assert.equal(ejectedFor(), 2000, 'ejected again at once: twice the base time');
    assert.equal(ejectedFor(), 2000, 'capped by max_ejection_time');
    // Healthy for a while: the back-off shrinks by one per interval (one tick at a time: the mock
    // runs a re-armed timer only on a later tick).
    assert.equal(m.backoff, 3);
    for (let i = 0; i < 3; i++) t.mock.timers.tick(100);
    assert.equal(m.backoff, 0);
    assert.equal(ejectedFor(), 1000);
    assert.equal(m.numEjections, 4);
  });

  it('adds jitter from max_ejection_time_jitter', (t) => {
    const f = fixture(t, 2, { consecutive_5xx: { value: 1 }, maxEjectionPercent: { value: 100 }, interval: { nanos: 100_000_000 }, baseEjectionTime: { seconds: 1 }, maxEjectionTimeJitter: { seconds: 1 } }, () => 450);
    f.monitor(1).putHttpStatus(500);
    assert.equal(f.monitor(1).jitterMs, 450);
    t.mock.timers.tick(1400);
    assert.equal(f.monitor(1).ejected, true);
    t.mock.timers.tick(100);
    assert.equal(f.monitor(1).ejected, false);
  });
});

describe('outlier detection: hosts and interval statistics', () => {
  it('keeps a surviving host\'s monitor across membership changes and forgets hosts that left', (t) => {
    const f = fixture(t, 3, { consecutive_5xx: { value: 1 }, maxEjectionPercent: { value: 100 } });
    const [a, b] = f.hosts;
    f.monitor(0).putHttpStatus(500);
    f.monitor(1).putHttpStatus(500);
    assert.equal(f.stat('ejections_active'), 2);
    const kept = a!.outlier;
    f.detector.setHosts([a!, { outlier: undefined }]);
    assert.equal(a!.outlier, kept);
    assert.equal(a!.outlier?.ejected, true);
    assert.equal(f.stat('ejections_active'), 1, 'the ejected host that left no longer counts');
    b!.outlier!.putHttpStatus(200);
    assert.equal(f.stat('ejections_active'), 1);
  });

  it('ejects success-rate outliers (mean − 1.9 stdev) and failure-percentage outliers once per interval', (t) => {
    const f = fixture(t, 5, { maxEjectionPercent: { value: 100 }, consecutive_5xx: { value: 0 }, enforcingFailurePercentage: { value: 0 } });
    const traffic = (failing: number, errors: number): void => {
      for (let i = 0; i < 5; i++) for (let r = 0; r < 100; r++) f.monitor(i).putHttpStatus(i === failing && r < errors ? 500 : 200);
    };
    for (let i = 0; i < 4; i++) for (let r = 0; r < 99; r++) f.monitor(i).putHttpStatus(r < 50 && i === 2 ? 500 : 200);
    t.mock.timers.tick(10_000);
    assert.deepEqual(f.ejected(), [], 'fewer than 5 hosts with 100 requests: no verdict');
    assert.deepEqual(f.detector.successRate('external'), { average: -1, threshold: -1 });
    traffic(2, 50);
    t.mock.timers.tick(10_000);
    assert.deepEqual(f.ejected(), [2], 'judged at the tick that ends the interval');
    assert.equal(f.stat('ejections_enforced_success_rate'), 1);
    assert.equal(f.stat('ejections_detected_failure_percentage'), 0, '50 % failures is under the 85 % threshold');
    assert.deepEqual(f.detector.successRate('external'), successRateThreshold(450, [100, 100, 50, 100, 100], 1.9));
    assert.equal(f.monitor(0).external.rate, 100);
    t.mock.timers.reset();
    const g = fixture(t, 5, { maxEjectionPercent: { value: 100 }, consecutive_5xx: { value: 0 }, enforcingSuccessRate: { value: 0 }, enforcingFailurePercentage: { value: 100 } });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5; i++) for (let r = 0; r < 60; r++) g.monitor(i).putHttpStatus(i === 4 && r % 10 !== 0 ? 503 : 200);
      t.mock.timers.tick(10_000);
    }
    assert.deepEqual(g.ejected(), [4]);
    assert.equal(g.stat('ejections_enforced_failure_percentage'), 1);
  });

  it('shrinks a returned host\'s back-off before the tick\'s rate ejections, so a host ejected again at that tick gets the base time (Envoy\'s order)', (t) => {
    const f = fixture(t, 5, { maxEjectionPercent: { value: 100 }, consecutive_5xx: { value: 0 }, enforcingFailurePercentage: { value: 0 } });
    const m = f.monitor(2);
    const interval = (failing: boolean): void => {
      for (let i = 0; i < 5; i++) for (let r = 0; r < 100; r++) f.monitor(i).putHttpStatus(i === 2 && failing && r < 50 ? 500 : 200);
      t.mock.timers.tick(10_000);
    };
    interval(true);
    assert.equal(m.ejected, true);
    assert.equal(m.backoff, 1);
    for (let i = 0; i < 3; i++) interval(false); // back at the third tick: 30 s, the base ejection time
    assert.equal(m.ejected, false);
    interval(true); // one interval in service, and an outlier again at its end
    assert.equal(m.ejected, true);
    assert.equal(m.backoff, 1, 'shrunk to 0 for the interval in service, then grown by this ejection');
    let s = 0;
    while (m.ejected) {
      t.mock.timers.tick(10_000);
      s += 10;
      assert.ok(s <= 120, 'never came back');
    }
    assert.equal(s, 30, 'the base ejection time, not twice it');
  });

  it('computes Envoy\'s example threshold: {50, 100, 100, 100, 100} → mean 90, stdev 20', () => {
    const { average, threshold } = successRateThreshold(450, [50, 100, 100, 100, 100], 1.9);
    assert.equal(average, 90);
    assert.equal(threshold, 52);
  });

  it('stops watching once retired', (t) => {
    const f = fixture(t, 2, { consecutive_5xx: { value: 1 }, maxEjectionPercent: { value: 100 } });
    f.detector.retire();
    f.monitor(0).putHttpStatus(500);
    assert.deepEqual(f.ejected(), []);
  });
});
