import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeTimeouts, parseGrpcTimeout } from './timeouts.ts';
import type { Timeouts } from './router/types.ts';

const route = (extra: Partial<Timeouts> = {}): Timeouts => ({
  routeMs: 15_000, idleMs: undefined, maxStreamDurationMs: undefined, grpcTimeoutHeaderMaxMs: undefined, grpcTimeoutHeaderOffsetMs: undefined,
  maxGrpcTimeoutMs: undefined, grpcTimeoutOffsetMs: undefined, ...extra,
});

describe('request timeouts', () => {
  it('parses grpc-timeout', () => {
    assert.equal(parseGrpcTimeout('100m'), 100);
    assert.equal(parseGrpcTimeout('2S'), 2000);
    assert.equal(parseGrpcTimeout('1M'), 60_000);
    assert.equal(parseGrpcTimeout('1500u'), 2);
    assert.equal(parseGrpcTimeout('10x'), undefined);
    assert.equal(parseGrpcTimeout('123456789S'), undefined);
  });

  it('uses the route timeout, overridden by x-envoy-upstream-rq-timeout-ms', () => {
    assert.deepEqual(computeTimeouts(route(), undefined, {}, false), { globalMs: 15_000, perTryMs: 0 });
    assert.deepEqual(computeTimeouts(route(), undefined, { 'x-envoy-upstream-rq-timeout-ms': '250' }, false), { globalMs: 250, perTryMs: 0 });
  });

  it('a gRPC request takes grpc-timeout when the route caps it (0: no cap)', () => {
    assert.equal(computeTimeouts(route({ grpcTimeoutHeaderMaxMs: 0 }), undefined, { 'grpc-timeout': '3S' }, true).globalMs, 3000);
    assert.equal(computeTimeouts(route({ grpcTimeoutHeaderMaxMs: 1000 }), undefined, { 'grpc-timeout': '3S' }, true).globalMs, 1000);
    assert.equal(computeTimeouts(route({ maxGrpcTimeoutMs: 0 }), undefined, {}, true).globalMs, 0);
    assert.equal(computeTimeouts(route(), undefined, { 'grpc-timeout': '3S' }, true).globalMs, 15_000);
  });

  it('ignores a per-try timeout not shorter than the route timeout', () => {
    assert.equal(computeTimeouts(route({ routeMs: 100 }), undefined, { 'x-envoy-upstream-rq-per-try-timeout-ms': '50' }, false).perTryMs, 50);
    assert.equal(computeTimeouts(route({ routeMs: 100 }), undefined, { 'x-envoy-upstream-rq-per-try-timeout-ms': '150' }, false).perTryMs, 0);
  });
});
