import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RetryState } from './retry-state.ts';
import { compileRetryPolicy } from './router/retry-policy.ts';
import { Problems } from './router/proto.ts';
import type { HeaderMap } from './headers.ts';

const req = (headers: HeaderMap = {}, method = 'GET') => ({ method, authority: 'h', path: '/', scheme: 'http' as const, headers });

function policy(p: Record<string, unknown>) {
  const problems = new Problems();
  const compiled = compileRetryPolicy(p, '', problems);
  assert.deepEqual(problems.list, []);
  return compiled;
}

describe('retry state', () => {
  it('exists only when some condition and a budget are configured', () => {
    assert.equal(RetryState.create(undefined, req({})), undefined);
    assert.equal(RetryState.create(policy({ retryOn: '5xx', numRetries: { value: 0 } }), req({})), undefined);
    assert.equal(RetryState.create(undefined, req({ 'x-envoy-retry-on': '5xx' }))?.remaining, 1);
    assert.equal(RetryState.create(policy({ retryOn: '5xx', numRetries: { value: 2 } }), req({ 'x-envoy-max-retries': '4' }))?.remaining, 4);
  });

  it('decides on responses as Envoy does', () => {
    const r = RetryState.create(policy({ retryOn: 'gateway-error,retriable-4xx,retriable-status-codes,retriable-headers,unavailable', retriableStatusCodes: [418], retriableHeaders: [{ name: 'x-retry-me', presentMatch: true }] }), req({}))!;
    assert.equal(r.retriableResponse(502, {}), true);
    assert.equal(r.retriableResponse(500, {}), false);
    assert.equal(r.retriableResponse(409, {}), true);
    assert.equal(r.retriableResponse(418, {}), true);
    assert.equal(r.retriableResponse(200, { 'x-retry-me': '1' }), true);
    assert.equal(r.retriableResponse(200, { 'grpc-status': '14' }), true);
    assert.equal(r.retriableResponse(200, { 'grpc-status': '13' }), false);
    assert.equal(r.retriableResponse(503, { 'x-envoy-overloaded': 'true' }), false);
    const fiveXX = RetryState.create(policy({ retryOn: '5xx' }), req({ 'x-envoy-retriable-status-codes': '429' }))!;
    assert.equal(fiveXX.retriableResponse(500, {}), true);
    assert.equal(fiveXX.retriableResponse(429, {}), false);
    const codes = RetryState.create(policy({ retryOn: 'retriable-status-codes' }), req({ 'x-envoy-retriable-status-codes': '429' }))!;
    assert.equal(codes.retriableResponse(429, {}), true);
  });

  it('decides on resets as Envoy does', () => {
    const cf = RetryState.create(policy({ retryOn: 'connect-failure' }), req({}))!;
    assert.equal(cf.retriableReset('connect-failure', false), true);
    assert.equal(cf.retriableReset('reset', true), false);
    assert.equal(cf.retriableReset('timeout', true), false);
    const reset = RetryState.create(policy({ retryOn: 'reset' }), req({}))!;
    assert.equal(reset.retriableReset('timeout', true), true);
    assert.equal(reset.retriableReset('overflow', false), false);
    const refused = RetryState.create(policy({ retryOn: 'refused-stream' }), req({}))!;
    assert.equal(refused.retriableReset('refused-stream', true), true);
    assert.equal(refused.retriableReset('reset', true), false);
  });

  it('retriable_request_headers must match for any retry', () => {
    const p = policy({ retryOn: '5xx', retriableRequestHeaders: [{ name: ':method', stringMatch: { exact: 'GET' } }, { name: 'x-idempotent', presentMatch: true }] });
    assert.equal(RetryState.create(p, req({})), undefined);
    assert.ok(RetryState.create(p, req({ 'x-idempotent': '1' })) !== undefined);
    assert.equal(RetryState.create(p, req({ 'x-idempotent': '1' }, 'POST')), undefined);
  });

  it('spends its budget', () => {
    const r = RetryState.create(policy({ retryOn: '5xx', numRetries: { value: 2 } }), req({}))!;
    assert.equal(r.consume(), true);
    assert.equal(r.consume(), true);
    assert.equal(r.consume(), false);
  });

  it('backs off with full jitter below (2^n − 1) × base, capped at the max interval', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 0.999_999, noNaN: true }), { minLength: 1, maxLength: 12 }), (randoms) => {
      const r = RetryState.create(policy({ retryOn: '5xx', retryBackOff: { baseInterval: { seconds: 0, nanos: 10_000_000 }, maxInterval: { seconds: 0, nanos: 100_000_000 } } }), req({}))!;
      let step = 1;
      return randoms.every((x) => {
        const ceiling = Math.min((2 ** step - 1) * 10, 100);
        if ((2 ** step - 1) * 10 <= 100) step++;
        const d = r.nextBackoffMs(() => x);
        return d >= 0 && d <= 100 && d <= ceiling;
      });
    }));
  });
});
