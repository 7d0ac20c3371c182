import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterEach, describe, it } from 'node:test';
import { UpstreamError } from './errors.ts';
import type { Harness, Upstream } from './testing.ts';
import { blackholePort, closedPort, clusterResource, get, harness, http1Upstream, http2Upstream, idle, loadAssignment } from './testing.ts';

const H2 = {
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    explicitHttpConfig: { http2ProtocolOptions: {} },
  },
};

function staticCluster(name: string, port: number, extra: Record<string, unknown> = {}): ReturnType<typeof clusterResource> {
  return clusterResource({ name, loadAssignment: loadAssignment(name, [['127.0.0.1', port]]), ...extra });
}

describe('connection pools', () => {
  let h: Harness | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await h?.close();
    h = undefined;
    await Promise.all(cleanups.splice(0).map((c) => c()));
  });
  const upstream = (u: Upstream): Upstream => {
    cleanups.push(() => u.close());
    return u;
  };

  it('multiplexes HTTP/2 (prior knowledge) requests over one connection', async () => {
    const u = upstream(await http2Upstream());
    h = harness();
    h.clusters([staticCluster('grpc', u.port, { typedExtensionProtocolOptions: H2 })]);
    const c = h.manager.cluster('grpc')!;
    assert.equal(c.http2, true);
    const d = c.dispatcher(c.pick()!);
    const results = await Promise.all([1, 2, 3].map((i) => get(d, `/r${i}`)));
    assert.deepEqual(results.map((r) => r.body), ['ok /r1', 'ok /r2', 'ok /r3']);
    assert.deepEqual(u.httpVersions, ['2.0', '2.0', '2.0']);
    assert.equal(u.connections, 1);
    assert.equal(c.counter('upstream_cx_http2_total').value, 1);
    assert.equal(c.counter('upstream_rq_total').value, 3);
  });

  it('follows the downstream protocol with use_downstream_protocol_config', async () => {
    const u1 = upstream(await http1Upstream());
    h = harness();
    h.clusters([staticCluster('both', u1.port, { typedExtensionProtocolOptions: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        useDownstreamProtocolConfig: { httpProtocolOptions: {}, http2ProtocolOptions: {} },
      },
    } })]);
    const c = h.manager.cluster('both')!;
    assert.equal(c.useDownstreamProtocol, true);
    assert.equal(c.http2, false);
    const host = c.pick()!;
    assert.equal(c.dispatcher(host), c.dispatcherFor(host, false));
    assert.notEqual(c.dispatcherFor(host, true), c.dispatcherFor(host, false));
    await get(c.dispatcherFor(host, false), '/');
    assert.deepEqual(u1.httpVersions, ['1.1']);
  });

  it('limits HTTP/1.1 connections per host to max_connections, queueing the rest', async () => {
    const u = upstream(await http1Upstream());
    h = harness();
    h.clusters([staticCluster('one', u.port, { circuitBreakers: { thresholds: [{ maxConnections: { value: 1 } }] } })]);
    const c = h.manager.cluster('one')!;
    const d = c.dispatcher(c.pick()!);
    const first = get(d, '/hold');
    await u.held();
    const second = get(d, '/after');
    assert.equal(c.counter('upstream_rq_pending_active').value, 1);
    u.release();
    assert.deepEqual((await Promise.all([first, second])).map((r) => r.body), ['ok /hold', 'ok /after']);
    assert.equal(u.connections, 1);
    assert.equal(c.counter('upstream_rq_pending_active').value, 0);
  });

  it('shutdown fails a request in flight with an error that names the pool', async () => {
    const u = upstream(await http1Upstream());
    h = harness();
    h.clusters([staticCluster('bye', u.port)]);
    const c = h.manager.cluster('bye')!;
    const inFlight = get(c.dispatcher(c.pick()!), '/hold').then(() => undefined, (e: unknown) => e);
    await u.held();
    await h.close();
    h = undefined;
    const err = await inFlight;
    assert.ok(err instanceof Error, String(err));
    assert.match(err.message, /connection pool to 127\.0\.0\.1:\d+ was destroyed/);
    u.release();
  });

  it('circuit breakers: admit() refuses past max_requests and max_pending_requests, counting the overflow', async () => {
    const u = upstream(await http1Upstream());
    h = harness();
    h.clusters([staticCluster('cb', u.port, { circuitBreakers: { thresholds: [{ maxConnections: { value: 1 }, maxRequests: { value: 2 }, maxPendingRequests: { value: 1 } }] } })]);
    const c = h.manager.cluster('cb')!;
    const d = c.dispatcher(c.pick()!);
    assert.equal(c.admit(), true);
    const first = get(d, '/hold');
    await u.held();
    assert.equal(c.admit(), true);
    const second = get(d, '/queued'); // no free connection: pending
    assert.equal(c.admit(), false, 'max_pending_requests (1) reached');
    assert.equal(c.counter('upstream_rq_pending_overflow').value, 1);
    assert.equal(c.counter('circuit_breakers.default.rq_pending_open').value, 1);
    u.release();
    await Promise.all([first, second]);
    await idle(d);
    assert.equal(c.admit(), true);
    assert.equal(c.counter('circuit_breakers.default.rq_pending_open').value, 0);

    h.clusters([staticCluster('cb', u.port, { circuitBreakers: { thresholds: [{ maxRequests: { value: 1 } }] } })]);
    const c2 = h.manager.cluster('cb')!;
    const held = get(c2.dispatcher(c2.pick()!), '/hold');
    await u.held();
    assert.equal(c2.admit(), false, 'max_requests (1) reached');
    assert.equal(c2.counter('upstream_rq_pending_overflow').value, 2);
    u.release();
    await held;
  });

  it('fails a request with UF-style errors and counts a refused connection', async () => {
    h = harness();
    h.clusters([staticCluster('down', await closedPort())]);
    const c = h.manager.cluster('down')!;
    const host = c.pick()!;
    const err = await get(c.dispatcher(host)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof UpstreamError, String(err));
    assert.equal(err.code, 'UPSTREAM_CONNECT_FAILURE');
    assert.equal(err.cluster, 'down');
    assert.match(err.message, /upstream connect error to 127\.0\.0\.1:\d+ in down: .*ECONNREFUSED/);
    assert.equal(c.counter('upstream_cx_connect_fail').value, 1);
    assert.equal(c.counter('upstream_cx_connect_timeout').value, 0);
    assert.equal(c.counter('upstream_rq_active').value, 0);
    assert.equal(host.state.counters.rqError, 1);
    const tcp = await c.connect(host).then(() => undefined, (e: unknown) => e);
    assert.ok(tcp instanceof UpstreamError && tcp.code === 'UPSTREAM_CONNECT_FAILURE');
    assert.equal(c.counter('upstream_cx_connect_fail').value, 2);
  });

  it('times out connections after connect_timeout and counts connect_timeout and connect_fail', async () => {
    const hole = await blackholePort();
    cleanups.push(hole.close);
    h = harness();
    h.clusters([staticCluster('slow', hole.port, { connectTimeout: { nanos: 150_000_000 } })]);
    const c = h.manager.cluster('slow')!;
    assert.equal(c.connectTimeoutMs, 150);
    const host = c.pick()!;
    const started = Date.now();
    const err = await get(c.dispatcher(host)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof UpstreamError, String(err));
    assert.equal(err.code, 'UPSTREAM_CONNECT_TIMEOUT');
    assert.ok(Date.now() - started >= 140);
    const tcp = await c.connect(host).then(() => undefined, (e: unknown) => e);
    assert.ok(tcp instanceof UpstreamError && tcp.code === 'UPSTREAM_CONNECT_TIMEOUT');
    assert.equal(c.counter('upstream_cx_connect_timeout').value, 2);
    assert.equal(c.counter('upstream_cx_connect_fail').value, 2);
    assert.equal(host.state.counters.cxConnectFail, 2);
  });

  it('opens TCP connections for the TCP proxy, counted until they close, refused past max_connections', async () => {
    const u = upstream(await http1Upstream());
    h = harness();
    h.clusters([staticCluster('tcp', u.port, { circuitBreakers: { thresholds: [{ maxConnections: { value: 1 } }] } })]);
    const c = h.manager.cluster('tcp')!;
    const host = c.pick()!;
    const socket = await c.connect(host);
    assert.equal(c.counter('upstream_cx_active').value, 1);
    assert.equal(host.state.counters.cxActive, 1);
    const overflow = await c.connect(host).then(() => undefined, (e: unknown) => e);
    assert.ok(overflow instanceof UpstreamError && overflow.code === 'UPSTREAM_OVERFLOW');
    assert.equal(c.counter('upstream_cx_overflow').value, 1);
    socket.end('GET /tcp HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    const chunks: Buffer[] = [];
    socket.on('data', (b: Buffer) => chunks.push(b));
    await once(socket, 'close');
    assert.match(Buffer.concat(chunks).toString(), /ok \/tcp/);
    assert.equal(c.counter('upstream_cx_active').value, 0);
    assert.equal(c.counter('upstream_cx_total').value, 1);
  });
});
