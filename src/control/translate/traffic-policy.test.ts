import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testMesh, TWO_SERVICES } from './harness.ts';

const A = 'outbound|80||a.default.svc.cluster.local';
const client = { name: 'client', ip: '10.0.0.9' };
/** A wrapper holding 0, as decoded from the wire. */
const ZERO = {};

/** The outlier detection and common LB config the client's cluster for `a` gets from `outlierDetection` (YAML flow map). */
function translate(outlierDetection: string): { od: Record<string, unknown> | undefined; common: Record<string, unknown> | undefined } {
  const mesh = testMesh(`${TWO_SERVICES}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec:
  host: a
  trafficPolicy: {outlierDetection: ${outlierDetection}}
`, [client]);
  const cluster = mesh.config('client').clusters?.[A] as Record<string, unknown> | undefined;
  assert.ok(cluster !== undefined);
  return { od: cluster['outlierDetection'] as Record<string, unknown> | undefined, common: cluster['commonLbConfig'] as Record<string, unknown> | undefined };
}

describe('DestinationRule outlierDetection → cluster outlier_detection (Istio\'s applyOutlierDetection)', () => {
  it('enforces consecutive 5xx when set, turns success-rate ejection off, and sets the panic threshold to 0', () => {
    const { od, common } = translate('{consecutive5xxErrors: 2, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100}');
    assert.deepEqual(od, {
      consecutive_5xx: { value: 2 }, enforcingConsecutive_5xx: { value: 100 }, enforcingSuccessRate: ZERO,
      interval: { seconds: 1 }, baseEjectionTime: { seconds: 30 }, maxEjectionPercent: { value: 100 },
    });
    assert.deepEqual(common, { healthyPanicThreshold: ZERO }, 'minHealthPercent unset: no panic');
  });

  it('leaves unset kinds to Envoy\'s defaults, and 0 turns a kind off', () => {
    const gateway = translate('{consecutiveGatewayErrors: 3, minHealthPercent: 30}');
    assert.deepEqual(gateway.od, { consecutiveGatewayFailure: { value: 3 }, enforcingConsecutiveGatewayFailure: { value: 100 }, enforcingSuccessRate: ZERO });
    assert.deepEqual(gateway.common, { healthyPanicThreshold: { value: 30 } });
    const off = translate('{consecutive5xxErrors: 0, maxEjectionPercent: 0}');
    assert.deepEqual(off.od, { consecutive_5xx: ZERO, enforcingConsecutive_5xx: ZERO, enforcingSuccessRate: ZERO }, 'maxEjectionPercent 0 is left to Envoy (10 %)');
  });

  it('counts local-origin failures apart when asked, enforcing them only with a threshold', () => {
    assert.deepEqual(translate('{splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 4}').od, {
      enforcingSuccessRate: ZERO, splitExternalLocalOriginErrors: true,
      consecutiveLocalOriginFailure: { value: 4 }, enforcingConsecutiveLocalOriginFailure: { value: 100 }, enforcingLocalOriginSuccessRate: ZERO,
    });
    assert.deepEqual(translate('{splitExternalLocalOriginErrors: true}').od, { enforcingSuccessRate: ZERO, splitExternalLocalOriginErrors: true, enforcingLocalOriginSuccessRate: ZERO });
  });

  it('reads the deprecated consecutiveErrors as gateway errors, unless the explicit fields are set', () => {
    assert.deepEqual(translate('{consecutiveErrors: 7}').od, {
      consecutiveGatewayFailure: { value: 7 }, enforcingConsecutiveGatewayFailure: { value: 100 }, enforcingConsecutive_5xx: ZERO, enforcingSuccessRate: ZERO,
    });
    assert.deepEqual(translate('{consecutiveErrors: 7, consecutive5xxErrors: 3}').od, {
      consecutiveGatewayFailure: { value: 7 }, enforcingConsecutiveGatewayFailure: { value: 100 }, consecutive_5xx: { value: 3 }, enforcingConsecutive_5xx: { value: 100 }, enforcingSuccessRate: ZERO,
    });
  });

  it('gives a cluster without outlierDetection none', () => {
    const mesh = testMesh(TWO_SERVICES, [client]);
    const cluster = mesh.config('client').clusters?.[A] as Record<string, unknown>;
    assert.equal(cluster['outlierDetection'], undefined);
    assert.equal(cluster['commonLbConfig'], undefined);
  });
});

describe('the load balancer a DestinationRule leaves unset', () => {
  // ROUND_ROBIN is the enum's zero value: decoded from the wire, it is absent.
  const lbOf = (dr: string, kind: 'sidecar' | 'grpc' = 'sidecar'): unknown => {
    const mesh = testMesh(`${TWO_SERVICES}${dr}`, [{ ...client, kind }]);
    const cluster = mesh.config('client').clusters?.[A] as Record<string, unknown> | undefined;
    assert.ok(cluster !== undefined);
    return cluster['lbPolicy'] ?? 'ROUND_ROBIN';
  };

  it('is LEAST_REQUEST, Istio\'s default since 1.14; a DestinationRule\'s choice wins', () => {
    assert.equal(lbOf(''), 'LEAST_REQUEST');
    assert.equal(lbOf(`---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec: {host: a, trafficPolicy: {loadBalancer: {simple: UNSPECIFIED}}}
`), 'LEAST_REQUEST');
    assert.equal(lbOf(`---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec: {host: a, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}}
`), 'ROUND_ROBIN');
  });

  it('is ROUND_ROBIN for proxyless gRPC clients, whose xDS support refuses LEAST_REQUEST; an explicit choice still reaches them', () => {
    assert.equal(lbOf('', 'grpc'), 'ROUND_ROBIN');
    assert.equal(lbOf(`---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec: {host: a, trafficPolicy: {loadBalancer: {simple: RANDOM}}}
`, 'grpc'), 'RANDOM');
  });
});

describe('HTTP/1.0 on a proxy\'s HTTP listeners', () => {
  /** `acceptHttp10` of every HTTP connection manager the client's listeners carry. */
  const accepts = (http10: boolean): unknown[] => {
    const mesh = testMesh(TWO_SERVICES, [{ ...client, http10, ports: [{ name: 'http', containerPort: 80 }] }]);
    const text = JSON.stringify(mesh.config('client').listeners);
    const hcms = text.match(/"statPrefix":"(?:in|out)bound_[^"]*"/g) ?? [];
    assert.ok(hcms.length >= 2, text.slice(0, 300));
    return [...text.matchAll(/"httpProtocolOptions":\{"acceptHttp_10":(true|false)\}/g)].map((m) => m[1]);
  };

  it('is refused (Envoy\'s default, 426) unless the proxy\'s metadata says HTTP10=1, as Istio reads it', () => {
    assert.deepEqual(accepts(false), []);
    const on = accepts(true);
    assert.ok(on.length >= 2 && on.every((v) => v === 'true'), JSON.stringify(on));
  });
});
