/**
 * The TCP proxy end to end: a real listener, the fake cluster manager, real upstream servers.
 * Bytes both ways with backpressure, half-close in both directions, weighted clusters, and each
 * failure's counter and response flag (from the `weft:proxy:tcp:session` diagnostics channel).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { after, test } from 'node:test';
import type { TcpSessionEnd } from '../src/proxy/network/index.ts';
import { closedPort, dial, echoServer, readAll, readUntil, roundTrip, tagServer } from './support/tcp-servers.ts';
import type { TestServer } from './support/tcp-servers.ts';
import { harness, HTTP_INSPECTOR, listener, tcpProxy, until } from './support/listener-harness.ts';
import type { ListenerHarness } from './support/listener-harness.ts';

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function keep<T extends TestServer>(s: Promise<T>): Promise<T> {
  const server = await s;
  servers.push(server);
  return server;
}

/** Session-end events of `statPrefix` published while `fn` runs (sessions of earlier tests may still end meanwhile). */
async function sessions(statPrefix: string, fn: () => Promise<void>, count: number): Promise<TcpSessionEnd[]> {
  const seen: TcpSessionEnd[] = [];
  const onEvent = (e: unknown): void => {
    if ((e as TcpSessionEnd).statPrefix === statPrefix) seen.push(e as TcpSessionEnd);
  };
  diagnostics.subscribe('weft:proxy:tcp:session', onEvent);
  try {
    await fn();
    await until(() => seen.length >= count, `${count} session-end events`);
  } finally {
    diagnostics.unsubscribe('weft:proxy:tcp:session', onEvent);
  }
  return seen;
}

async function proxyTo(h: ListenerHarness, config: Record<string, unknown>, fields: Record<string, unknown> = {}): Promise<number> {
  await h.apply(listener('tcp', { filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', statPrefix: 'tp', ...config } }] }], ...fields }));
  return h.port('tcp');
}

test('4 MiB each way through the proxy with backpressure, after replaying inspected bytes', async (t) => {
  const h = harness(t);
  const up = await keep(echoServer());
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  const port = await proxyTo(h, { cluster: 'echo' }, { listenerFilters: [HTTP_INSPECTOR] });
  const client = await dial(port);
  const payload = Buffer.concat([Buffer.from('GET /big HTTP/1.1\r\n\r\n'), randomBytes(4 * 1024 * 1024)]);
  const hash = createHash('sha256');
  let received = 0;
  client.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    received += chunk.length;
  });
  client.end(payload);
  await once(client, 'end');
  assert.equal(received, payload.length);
  assert.equal(hash.digest('hex'), createHash('sha256').update(payload).digest('hex'));
  await until(() => h.stat('tcp.tp.downstream_cx_rx_bytes_total') === payload.length, 'rx bytes counted at close');
  assert.equal(h.stat('tcp.tp.downstream_cx_tx_bytes_total'), payload.length);
});

test('half-close: the client ends first and still gets the echo; the server ends first and still gets the client’s bytes', async (t) => {
  const h = harness(t);
  const up = await keep(echoServer());
  let serverGot = '';
  const serverFirst = createServer({ allowHalfOpen: true }, (s) => {
    s.end('bye early\n'); // FIN first, keep reading
    s.on('data', (c: Buffer) => (serverGot += c.toString()));
  });
  serverFirst.listen(0, '127.0.0.1');
  await once(serverFirst, 'listening');
  after(() => serverFirst.close());
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  h.clusters.add({ name: 'first', hosts: [{ address: '127.0.0.1', port: (serverFirst.address() as { port: number }).port }] });
  await h.apply(
    listener('a', { filterChains: [{ filters: [tcpProxy('echo')] }] }),
    listener('b', { filterChains: [{ filters: [tcpProxy('first')] }] }),
  );

  const c1 = await dial(h.port('a'));
  c1.end('half-closed request');
  assert.equal(await readAll(c1), 'half-closed request');

  const c2 = await dial(h.port('b'));
  assert.equal(await readUntil(c2, (r) => r.includes('\n')), 'bye early\n');
  await once(c2, 'end');
  c2.end('after your FIN');
  await until(() => serverGot === 'after your FIN', 'server got bytes sent after its FIN');
});

test('weighted clusters: picks follow the weights (deterministic random)', async (t) => {
  let k = 0;
  const total = 8;
  const h = harness(t, { network: { tcpProxy: { random: () => (k++ % total + 0.5) / total } } });
  h.clusters.add({ name: 'a', hosts: [{ address: '127.0.0.1', port: (await keep(tagServer('A'))).port }] });
  h.clusters.add({ name: 'b', hosts: [{ address: '127.0.0.1', port: (await keep(tagServer('B'))).port }] });
  const port = await proxyTo(h, { weightedClusters: { clusters: [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }] } });
  const tags: string[] = [];
  for (let i = 0; i < total; i++) {
    const c = await dial(port);
    tags.push((await readUntil(c, (r) => r.includes('\n'))).trim());
    c.destroy();
  }
  assert.deepEqual(tags, ['A', 'A', 'A', 'A', 'A', 'A', 'B', 'B']);
});

test('upstream connect failure: the client is closed, counters and flags UF,URX', async (t) => {
  const h = harness(t);
  h.clusters.add({ name: 'dead', hosts: [{ address: '127.0.0.1', port: await closedPort() }] });
  const port = await proxyTo(h, { cluster: 'dead', statPrefix: 'dead' });
  const [event] = await sessions('dead', async () => {
    assert.equal(await readAll(await dial(port)), '');
  }, 1);
  assert.equal(event?.flags, 'UF,URX');
  assert.equal(event?.cluster, 'dead');
  assert.equal(h.stat('cluster.dead.upstream_cx_connect_fail'), 1);
  assert.equal(h.stat('cluster.dead.upstream_cx_connect_attempts_exceeded'), 1);
});

test('max_connect_attempts: a failed host is skipped on the next attempt', async (t) => {
  const h = harness(t);
  const up = await keep(echoServer());
  h.clusters.add({ name: 'mixed', hosts: [{ address: '127.0.0.1', port: await closedPort() }, { address: '127.0.0.1', port: up.port }] });
  const port = await proxyTo(h, { cluster: 'mixed', statPrefix: 'mixed', maxConnectAttempts: { value: 2 } });
  const [event] = await sessions('mixed', async () => {
    const c = await dial(port);
    assert.equal(await roundTrip(c, 'retried'), 'retried');
    c.end();
    await readAll(c);
  }, 1);
  assert.equal(event?.flags, 'UF');
  assert.equal(event?.upstream, `127.0.0.1:${up.port}`);
  assert.equal(h.stat('cluster.mixed.upstream_cx_connect_attempts_exceeded'), 0);
});

test('no such cluster (NC) and no healthy host (UH): closed and counted', async (t) => {
  const h = harness(t);
  h.clusters.add({ name: 'sick', hosts: [{ address: '127.0.0.1', port: 1, healthy: false }] });
  await h.apply(
    listener('nc', { filterChains: [{ filters: [tcpProxy('missing', 'nc')] }] }),
    listener('uh', { filterChains: [{ filters: [tcpProxy('sick', 'uh')] }] }),
  );
  const [nc] = await sessions('nc', async () => {
    assert.equal(await readAll(await dial(h.port('nc'))), '');
  }, 1);
  const [uh] = await sessions('uh', async () => {
    assert.equal(await readAll(await dial(h.port('uh'))), '');
  }, 1);
  assert.deepEqual([nc?.flags, uh?.flags], ['NC', 'UH']);
  assert.equal(h.stat('tcp.nc.downstream_cx_no_route'), 1);
  assert.equal(h.stat('cluster.sick.upstream_cx_none_healthy'), 1);
});

test('the client leaving during the upstream connect: the late upstream socket is closed (DC)', async (t) => {
  const h = harness(t);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let accepted = 0;
  let open = 0;
  const up = await keep(echoServer());
  up.server.on('connection', (s: Socket) => {
    accepted++;
    open++;
    s.once('close', () => open--);
  });
  h.clusters.add({ name: 'slow', hosts: [{ address: '127.0.0.1', port: up.port }], gate });
  const port = await proxyTo(h, { cluster: 'slow', statPrefix: 'slow' });
  const [event] = await sessions('slow', async () => {
    const c = await dial(port);
    await until(() => h.stat('cluster.slow.upstream_cx_total') === 1, 'connect started');
    c.resetAndDestroy();
    await until(() => h.manager.status('tcp')?.connections === 0, 'downstream gone');
  }, 1);
  assert.equal(event?.flags, 'DC');
  release();
  await until(() => accepted === 1 && open === 0, 'the late upstream connection was made, then closed by the proxy');
});

test('idle timeout and max connection duration close quiet or old connections', async (t) => {
  const h = harness(t);
  const up = await keep(echoServer());
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  await h.apply(
    listener('idle', { filterChains: [{ filters: [tcpProxy('echo', 'idle', { idleTimeout: { nanos: 80_000_000 } })] }] }),
    listener('old', { filterChains: [{ filters: [tcpProxy('echo', 'old', { idleTimeout: {}, maxDownstreamConnectionDuration: { nanos: 80_000_000 } })] }] }),
  );
  const quiet = await dial(h.port('idle'));
  assert.equal(await roundTrip(quiet, 'once'), 'once');
  assert.equal(await readAll(quiet), '');
  assert.equal(h.stat('tcp.idle.idle_timeout'), 1);
  const [event] = await sessions('old', async () => {
    const old = await dial(h.port('old'));
    assert.equal(await roundTrip(old, 'x'), 'x');
    await readAll(old);
  }, 1);
  assert.equal(event?.flags, 'DT');
  assert.equal(h.stat('tcp.old.max_downstream_connection_duration'), 1);
});
