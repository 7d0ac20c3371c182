import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeGrpcMessage, decodeGrpcMessage } from '../../xds/grpc-status.ts';
import { grpcFrame, headerSafe, httpFrame, httpToGrpcStatus, isGrpcContentType } from './local-reply.ts';
import { FLAG } from './stream-info.ts';

describe('local replies', () => {
  it('maps HTTP statuses to gRPC statuses as Envoy does', () => {
    assert.deepEqual([400, 401, 403, 404, 429, 502, 503, 504, 500, 418].map(httpToGrpcStatus), [13, 16, 7, 12, 14, 14, 14, 14, 2, 2]);
  });

  it('recognizes gRPC content types', () => {
    assert.equal(isGrpcContentType('application/grpc'), true);
    assert.equal(isGrpcContentType('application/grpc+proto'), true);
    assert.equal(isGrpcContentType('application/grpc;charset=utf-8'), true);
    assert.equal(isGrpcContentType('application/grpc-web'), false);
    assert.equal(isGrpcContentType('application/json'), false);
    assert.equal(isGrpcContentType(undefined), false);
  });

  it('makes causes header-safe and bounded', () => {
    assert.equal(headerSafe('no route for h\u00e9/p\r\nx'), 'no route for h?/p??x');
    assert.equal(headerSafe('x'.repeat(600)).length, 515);
  });

  it('percent-encodes grpc-message', () => {
    assert.equal(encodeGrpcMessage('50% off é'), '50%25 off %C3%A9');
    assert.equal(decodeGrpcMessage('50%25 off %C3%A9'), '50% off é');
    assert.equal(decodeGrpcMessage('100%'), '100%', 'a malformed escape stays as it came');
  });

  it('a failure carries the cause as header and body', () => {
    const f = httpFrame({ status: 503, flags: FLAG.UH, details: 'no_healthy_upstream', cause: 'no healthy upstream in c' }, false);
    assert.equal(f.status, 503);
    assert.equal(f.headers['x-weft-error'], 'no healthy upstream in c');
    assert.equal(f.body, 'no healthy upstream in c\n');
    assert.equal(f.headers['content-length'], 25);
  });

  it('a HEAD reply keeps the length but drops the body; a configured answer has no error header', () => {
    const f = httpFrame({ status: 418, flags: 0, details: 'direct_response', body: 'tea' }, true);
    assert.equal(f.body, undefined);
    assert.equal(f.headers['content-length'], 3);
    assert.equal(f.headers['x-weft-error'], undefined);
  });

  it('a gRPC reply is trailers-only: HTTP 200, grpc-status and grpc-message', () => {
    const f = grpcFrame({ status: 504, flags: FLAG.UT, details: 'upstream_response_timeout', cause: 'upstream request timeout in c' });
    assert.equal(f.status, 200);
    assert.equal(f.body, undefined);
    assert.equal(f.headers['grpc-status'], '14');
    assert.equal(f.headers['grpc-message'], 'upstream request timeout in c');
    assert.equal(f.headers['content-type'], 'application/grpc');
    const g = grpcFrame({ status: 200, flags: FLAG.FI, details: 'fault_filter_abort', cause: 'fault filter abort', grpcStatus: 8 });
    assert.equal(g.headers['grpc-status'], '8');
  });
});
