/**
 * The listener manager end to end on loopback: binding, updates and removals with connections in
 * flight, draining, warming, original-destination hand-off, limits, listener filters (TLS inspector
 * with a real ClientHello, HTTP inspector), filter-chain selection, NACK of unknown filters.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { after, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import http from 'node:http';
import type { NetworkFilter, NetworkFilterFactory } from '../src/proxy/core/contracts.ts';
import { parseClientHello, registerBuiltinListenerFilters, ListenerFilterRegistry, replayPreread } from '../src/proxy/listener/index.ts';
import { closedPort, dial, echoServer, readAll, readUntil, recordingServer, roundTrip, tagServer } from './support/tcp-servers.ts';
import type { TestServer } from './support/tcp-servers.ts';
import { harness, HTTP_INSPECTOR, listener, ORIGINAL_DST, tcpProxy, TLS_INSPECTOR, until } from './support/listener-harness.ts';

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function echo(): Promise<TestServer> {
  const s = await echoServer();
  servers.push(s);
  return s;
}

async function tagged(tag: string): Promise<TestServer> {
  const s = await tagServer(tag);
  servers.push(s);
  return s;
}

function refused(port: number): Promise<boolean> {
  return dial(port).then((s) => {
    s.destroy();
    return false;
  }, (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
}

test('binds port 0, reports the bound port, counts connections, proxies bytes', async (t) => {
  const h = harness(t);
  const up = await echo();
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  await h.apply(listener('l1', { filterChains: [{ filters: [tcpProxy('echo')] }] }));
  const port = h.port('l1');
  assert.ok(port > 0);
  const client = await dial(port);
  assert.equal(await roundTrip(client, 'hello'), 'hello');
  assert.equal(h.stat('listener.l1.downstream_cx_total'), 1);
  assert.equal(h.stat('listener.l1.downstream_cx_active'), 1);
  assert.equal(h.stat('listener_manager.total_listeners_active'), 1);
  client.end();
  await once(client, 'close');
  await until(() => h.stat('listener.l1.downstream_cx_active') === 0, 'active gauge back to 0');
  assert.equal(h.stat('listener.l1.downstream_cx_destroy'), 1);
});

test('update with the same address: same socket, the in-flight connection completes, new ones use the new chain', async (t) => {
  const h = harness(t, { drainTimeoutMs: 10_000 });
  const up = await echo();
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  await h.apply(listener('l', { filterChains: [{ filters: [tcpProxy('echo', 'v1')] }] }));
  const port = h.port('l');
  const old = await dial(port);
  assert.equal(await roundTrip(old, 'before'), 'before');

  await h.apply(listener('l', { filterChains: [{ filters: [tcpProxy('echo', 'v2')] }] }));
  assert.equal(h.port('l'), port, 'the socket is kept');
  assert.equal(h.manager.dump().draining.length, 1, 'the old chain drains');
  assert.equal(await roundTrip(old, 'during drain'), 'during drain', 'the old connection still works');
  const fresh = await dial(port);
  assert.equal(await roundTrip(fresh, 'new'), 'new');
  assert.equal(h.stat('tcp.v1.downstream_cx_total'), 1);
  assert.equal(h.stat('tcp.v2.downstream_cx_total'), 1);

  old.end();
  assert.equal(await readAll(old), '', 'the old connection ends cleanly');
  await until(() => h.manager.dump().draining.length === 0, 'drained');
  assert.equal(h.stat('listener.l.downstream_cx_drain_timeout'), 0);
  fresh.destroy();
});

test('no connection is refused or broken across repeated updates under load', async (t) => {
  const h = harness(t, { drainTimeoutMs: 10_000 });
  const up = await echo();
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  await h.apply(listener('l', { filterChains: [{ filters: [tcpProxy('echo', 'v0')] }] }));
  const port = h.port('l');
  let ok = 0;
  const failures: string[] = [];
  let running = true;
  const load = async (): Promise<void> => {
    while (running) {
      try {
        const s = await dial(port);
        assert.equal(await roundTrip(s, 'ping'), 'ping');
        s.end();
        ok++;
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const workers = [load(), load(), load(), load()];
  for (let v = 1; v <= 6; v++) {
    const before = ok;
    await h.apply(listener('l', { filterChains: [{ filters: [tcpProxy('echo', `v${v}`)] }] }));
    await until(() => ok >= before + 8, 'traffic after the update');
  }
  running = false;
  await Promise.all(workers);
  assert.deepEqual(failures, []);
  assert.ok(h.stat('tcp.v6.downstream_cx_total') > 0);
});

test('an update that keeps a chain keeps its connections (in-place update, nothing drains)', async (t) => {
  const h = harness(t, { drainTimeoutMs: 1 });
  const up = await echo();
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  const chain = { filters: [tcpProxy('echo')] };
  await h.apply(listener('l', { filterChains: [chain] }));
  const client = await dial(h.port('l'));
  assert.equal(await roundTrip(client, 'a'), 'a');
  await h.apply(listener('l', { filterChains: [chain], listenerFiltersTimeout: { seconds: 3 } }));
  assert.equal(h.stat('listener_manager.listener_in_place_updated'), 1);
  assert.equal(h.manager.dump().draining.length, 0);
  assert.equal(await roundTrip(client, 'b'), 'b');
  assert.equal(h.stat('listener.l.downstream_cx_drain_timeout'), 0);
  client.destroy();
});

test('remove: stops accepting; the in-flight connection completes within the drain time', async (t) => {
  const h = harness(t, { drainTimeoutMs: 10_000 });
  const up = await echo();
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  await h.apply(listener('l', { filterChains: [{ filters: [tcpProxy('echo')] }] }));
  const port = h.port('l');
  const client = await dial(port);
  await h.apply();
  assert.equal(h.manager.status('l'), undefined);
  await until(() => h.stat('listener_manager.total_listeners_draining') === 1, 'draining gauge');
  assert.ok(await refused(port), 'new connections are refused');
  assert.equal(await roundTrip(client, 'still here'), 'still here');
  client.end();
  await readAll(client);
  await until(() => h.stat('listener_manager.total_listeners_draining') === 0, 'drained');
  assert.equal(h.stat('listener_manager.listener_removed'), 1);
});

test('drain timeout: connections still open when it ends are closed and counted', async (t) => {
  const drainTimeoutMs = 150;
  const h = harness(t, { drainTimeoutMs });
  const up = await echo();
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  await h.apply(listener('l', { filterChains: [{ filters: [tcpProxy('echo')] }] }));
  const client = await dial(h.port('l'));
  assert.equal(await roundTrip(client, 'x'), 'x');
  const started = Date.now();
  const drained = h.manager.drainListeners();
  assert.equal(await roundTrip(client, 'y'), 'y', 'works while draining');
  assert.equal(await readAll(client), '', 'the proxy ends the connection');
  assert.ok(Date.now() - started >= drainTimeoutMs - 10, 'closed by the drain timer, not earlier');
  await drained;
  assert.equal(h.stat('listener.l.downstream_cx_drain_timeout'), 1);
  assert.equal(h.manager.status('l')?.state, 'stopped');
});

test('an address change binds the new address before the old one stops; old connections finish', async (t) => {
  const h = harness(t, { drainTimeoutMs: 10_000 });
  const up = await echo();
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  await h.apply(listener('l', { filterChains: [{ filters: [tcpProxy('echo')] }] }));
  const oldPort = h.port('l');
  const client = await dial(oldPort);
  await h.apply(listener('l', { address: { socketAddress: { address: '127.0.0.2', portValue: 0 } }, filterChains: [{ filters: [tcpProxy('echo', 'moved')] }] }));
  const status = h.manager.status('l')!;
  assert.equal(status.address, '127.0.0.2');
  const moved = await dial(status.port, '127.0.0.2');
  assert.equal(await roundTrip(moved, 'new'), 'new');
  assert.ok(await refused(oldPort), 'the old address no longer accepts');
  assert.equal(await roundTrip(client, 'old'), 'old');
  client.destroy();
  moved.destroy();
});

test('warming: a new listener is not bound until ready; an update warms while the old version serves', async (t) => {
  let ready = false;
  const h = harness(t, { ready: () => ready });
  const a = await tagged('A');
  const b = await tagged('B');
  h.clusters.add({ name: 'a', hosts: [{ address: '127.0.0.1', port: a.port }] });
  h.clusters.add({ name: 'b', hosts: [{ address: '127.0.0.1', port: b.port }] });
  await h.apply(listener('l', { filterChains: [{ filters: [tcpProxy('a')] }] }));
  assert.equal(h.manager.status('l')?.state, 'warming');
  assert.equal(h.stat('listener_manager.total_listeners_warming'), 1);
  ready = true;
  h.routes.changed('some-route'); // a route arriving re-checks warming listeners
  await until(() => h.manager.status('l')?.state === 'active', 'active after routes arrived');
  await h.manager.settled();
  const port = h.port('l');

  ready = false;
  await h.apply(listener('l', { filterChains: [{ filters: [tcpProxy('b')] }] }));
  assert.equal(h.manager.status('l')?.warming, true);
  assert.equal(await readUntil(await dial(port), (r) => r.includes('\n')), 'A\n', 'the old version still serves');
  ready = true;
  h.manager.refreshWarming();
  assert.equal(h.manager.status('l')?.warming, false);
  assert.equal(await readUntil(await dial(port), (r) => r.includes('\n')), 'B\n');
});

test('use_original_dst hands connections to the bind_to_port:false listener of their destination', async (t) => {
  const up = await tagged('inbound-9080');
  const listenerFilters = registerBuiltinListenerFilters(new ListenerFilterRegistry(), { originalDestination: () => ({ address: '10.0.0.5', port: 9080 }) });
  const h = harness(t, { listenerFilters });
  const inbound = h.clusters.add({ name: 'inbound', hosts: [{ address: '127.0.0.1', port: up.port }] });
  h.clusters.add({ name: 'passthrough', hosts: [] });
  await h.apply(
    listener('virtualInbound', { useOriginalDst: { value: true }, listenerFilters: [ORIGINAL_DST], filterChains: [{ filters: [tcpProxy('passthrough')] }] }),
    listener('10.0.0.5_9080', { address: { socketAddress: { address: '0.0.0.0', portValue: 9080 } }, bindToPort: { value: false }, filterChains: [{ filters: [tcpProxy('inbound')] }] }),
  );
  const virtual = h.manager.status('10.0.0.5_9080')!;
  assert.deepEqual([virtual.state, virtual.bindToPort, virtual.port], ['active', false, 9080]);
  const client = await dial(h.port('virtualInbound'));
  assert.equal(await readUntil(client, (r) => r.includes('\n')), 'inbound-9080\n');
  assert.equal(h.stat('listener.10.0.0.5_9080.downstream_cx_total'), 1);
  assert.equal(h.stat('listener.virtualInbound.downstream_cx_total'), 0);
  assert.equal(inbound.picks[0]?.originalDestination, '10.0.0.5:9080', 'the restored destination reaches ORIGINAL_DST clusters');
  client.destroy();
});

test('api_listener listeners are accepted and not bound', async (t) => {
  const h = harness(t);
  await h.apply({ name: 'reviews.default.svc.cluster.local:9080', apiListener: { apiListener: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', rds: { routeConfigName: 'x', configSource: { ads: {} } } } } });
  assert.equal(h.manager.status('reviews.default.svc.cluster.local:9080')?.state, 'api');
  assert.equal(h.manager.dump().active.length, 1);
});

test('a second listener on a taken address fails with a reason; the first keeps serving', async (t) => {
  const h = harness(t);
  const up = await echo();
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  await h.apply(listener('first', { filterChains: [{ filters: [tcpProxy('echo')] }] }));
  const port = h.port('first');
  const at = { address: { socketAddress: { address: '127.0.0.1', portValue: port } } };
  await h.apply(listener('first', { ...at, filterChains: [{ filters: [tcpProxy('echo')] }] }), listener('second', { ...at, filterChains: [{ filters: [tcpProxy('echo')] }] }));
  const second = h.manager.status('second')!;
  assert.equal(second.state, 'failed');
  assert.match(second.error ?? '', /already used by listener 'first'/);
  assert.equal(await roundTrip(await dial(port), 'ok'), 'ok');
  assert.ok(h.stat('listener_manager.listener_create_failure') >= 1);
});

test('a bind failure (address in use outside weft) is reported, not thrown', async (t) => {
  const h = harness(t);
  const busy = await echo();
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: busy.port }] });
  await h.apply(listener('l', { address: { socketAddress: { address: '127.0.0.1', portValue: busy.port } }, filterChains: [{ filters: [tcpProxy('echo')] }] }));
  assert.equal(h.manager.status('l')?.state, 'failed');
  assert.match(h.manager.status('l')?.error ?? '', /EADDRINUSE/);
});

test('connection limit: connections over the limit are closed and counted', async (t) => {
  const h = harness(t, { maxConnections: 1 });
  const up = await echo();
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  await h.apply(listener('l', { filterChains: [{ filters: [tcpProxy('echo')] }] }));
  const first = await dial(h.port('l'));
  assert.equal(await roundTrip(first, '1'), '1');
  const second = await dial(h.port('l'));
  assert.equal(await readAll(second), '');
  assert.equal(h.stat('listener.l.downstream_cx_overflow'), 1);
  first.destroy();
  await until(() => h.manager.status('l')?.connections === 0, 'first closed');
  assert.equal(await roundTrip(await dial(h.port('l')), '3'), '3', 'room again');
});

test('TLS inspector: a real ClientHello picks the chain by SNI (exact over wildcard) and reaches upstream intact', async (t) => {
  const hits: { tag: string; sni: string; alpn: readonly string[] }[] = [];
  const upstream = async (tag: string): Promise<TestServer> => {
    const s = await recordingServer((received, socket) => {
      const hello = parseClientHello(received);
      if (hello.kind === 'more') return;
      hits.push({ tag, sni: hello.kind === 'tls' ? hello.serverName : '-', alpn: hello.kind === 'tls' ? hello.alpn : [] });
      socket.destroy();
    });
    servers.push(s);
    return s;
  };
  const h = harness(t);
  for (const tag of ['api', 'wild', 'other']) h.clusters.add({ name: tag, hosts: [{ address: '127.0.0.1', port: (await upstream(tag)).port }] });
  await h.apply(listener('tls', {
    listenerFilters: [TLS_INSPECTOR],
    filterChains: [
      { filterChainMatch: { serverNames: ['*.example.com'] }, filters: [tcpProxy('wild')] },
      { filterChainMatch: { serverNames: ['api.example.com'] }, filters: [tcpProxy('api')] },
    ],
    defaultFilterChain: { filters: [tcpProxy('other')] },
  }));
  const port = h.port('tls');
  const hello = async (servername?: string): Promise<void> => {
    const before = hits.length;
    const c: Socket = tlsConnect({ host: '127.0.0.1', port, ...(servername === undefined ? {} : { servername }), ALPNProtocols: ['h2', 'http/1.1'] });
    c.on('error', () => {});
    await until(() => hits.length > before, `upstream hit for ${servername}`);
    c.destroy();
  };
  await hello('api.example.com');
  await hello('shop.example.com');
  await hello(undefined);
  assert.deepEqual(hits, [
    { tag: 'api', sni: 'api.example.com', alpn: ['h2', 'http/1.1'] },
    { tag: 'wild', sni: 'shop.example.com', alpn: ['h2', 'http/1.1'] },
    { tag: 'other', sni: '', alpn: ['h2', 'http/1.1'] },
  ]);
  assert.equal(h.stat('tls_inspector.tls_found'), 3);
});

test('HTTP inspector: HTTP/1.1, h2c and other bytes go to their chains, with the inspected bytes replayed', async (t) => {
  const h = harness(t);
  for (const tag of ['h1', 'h2', 'raw']) h.clusters.add({ name: tag, hosts: [{ address: '127.0.0.1', port: (await tagged(tag)).port }] });
  await h.apply(listener('http', {
    listenerFilters: [HTTP_INSPECTOR],
    filterChains: [
      { filterChainMatch: { applicationProtocols: ['h2c'] }, filters: [tcpProxy('h2')] },
      { filterChainMatch: { applicationProtocols: ['http/1.1', 'http/1.0'] }, filters: [tcpProxy('h1')] },
    ],
    defaultFilterChain: { filters: [tcpProxy('raw')] },
  }));
  const send = async (payload: string): Promise<string> => {
    const c = await dial(h.port('http'));
    c.write(payload);
    const got = await readUntil(c, (r) => r.endsWith(payload));
    c.destroy();
    return got;
  };
  assert.equal(await send('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 'h1\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(await send('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 'h2\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  assert.equal(await send('hello\n'), 'raw\nhello\n');
  assert.equal(h.stat('http_inspector.http11_found'), 1);
  assert.equal(h.stat('http_inspector.http2_found'), 1);
});

test('listener filter timeout: closes the connection, or continues to the chains when configured', async (t) => {
  const h = harness(t);
  const up = await tagged('late');
  h.clusters.add({ name: 'late', hosts: [{ address: '127.0.0.1', port: up.port }] });
  const fields = { listenerFilters: [HTTP_INSPECTOR], listenerFiltersTimeout: { nanos: 50_000_000 }, filterChains: [{ filters: [tcpProxy('late')] }] };
  await h.apply(listener('strict', fields), listener('lenient', { ...fields, continueOnListenerFiltersTimeout: true }));
  const silent = await dial(h.port('strict'));
  assert.equal(await readAll(silent), '');
  assert.equal(h.stat('listener.strict.downstream_pre_cx_timeout'), 1);
  const patient = await dial(h.port('lenient'));
  assert.equal(await readUntil(patient, (r) => r.includes('\n')), 'late\n', 'dispatched after the timeout');
  assert.equal(await roundTrip(patient, 'x'), 'x');
  patient.destroy();
});

test('a peer that closes during inspection is closed and counted, never dispatched', async (t) => {
  const h = harness(t);
  h.clusters.add({ name: 'c', hosts: [{ address: '127.0.0.1', port: await closedPort() }] });
  await h.apply(listener('l', { listenerFilters: [HTTP_INSPECTOR], filterChains: [{ filters: [tcpProxy('c')] }] }));
  const client = await dial(h.port('l'));
  client.end('GE'); // could still become "GET ...": the inspector waits, then sees the FIN
  assert.equal(await readAll(client), '');
  await until(() => h.stat('listener.l.downstream_listener_filter_remote_close') === 1, 'remote close counted');
  assert.equal(h.stat('listener.l.downstream_cx_total'), 0);
  assert.equal(h.stat('listener.l.downstream_pre_cx_active'), 0);
});

test('no matching chain and no default chain: closed and counted', async (t) => {
  const h = harness(t);
  h.clusters.add({ name: 'c', hosts: [{ address: '127.0.0.1', port: await closedPort() }] });
  await h.apply(listener('l', { filterChains: [{ filterChainMatch: { destinationPort: { value: 1 } }, filters: [tcpProxy('c')] }] }));
  assert.equal(await readAll(await dial(h.port('l'))), '');
  assert.equal(h.stat('listener.l.no_filter_chain_match'), 1);
});

test('NACK: validate reports unknown filters (and every other problem); the active listener is untouched', async (t) => {
  const h = harness(t);
  const up = await echo();
  h.clusters.add({ name: 'echo', hosts: [{ address: '127.0.0.1', port: up.port }] });
  await h.apply(listener('l', { filterChains: [{ filters: [tcpProxy('echo')] }] }));
  const port = h.port('l');
  const problems = h.manager.validate('l', {
    name: 'l',
    address: { socketAddress: { address: '127.0.0.1', portValue: port } },
    listenerFilters: [{ name: 'x', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol' } }],
    filterChains: [{ filters: [{ name: 'mongo', typedConfig: { typeUrl: 'type.googleapis.com/envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy', value: '' } }] }],
  });
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems.join('\n'), /listenerFilters\[0\]\.typedConfig: unknown listener filter type/);
  assert.match(problems.join('\n'), /filterChains\[0\]\.filters\[0\]\.typedConfig: unknown network filter type envoy\.extensions\.filters\.network\.mongo_proxy\.v3\.MongoProxy/);
  assert.equal(await roundTrip(await dial(port), 'still serving'), 'still serving');
});

test('a filter registered beside the built-ins (as the HCM is) reads the inspected bytes back through replayPreread', async (t) => {
  const server = http.createServer((req, res) => res.end(`ok ${req.url}`));
  const drained: string[] = [];
  const closed: string[] = [];
  const hcmLike: NetworkFilterFactory = {
    typeUrl: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    validate: (c) => (typeof c['statPrefix'] === 'string' ? [] : ['typedConfig.statPrefix: required']),
    create: (c): NetworkFilter => ({
      onConnection(info) {
        replayPreread(info);
        server.emit('connection', info.socket);
      },
      drain: () => void drained.push(String(c['statPrefix'])),
      close: () => void closed.push(String(c['statPrefix'])),
    }),
  };
  const h = harness(t, { extraFilters: [hcmLike] });
  const hcm = (statPrefix: string): Record<string, unknown> => ({ name: 'envoy.filters.network.http_connection_manager', typedConfig: { '@type': hcmLike.typeUrl, statPrefix } });
  await h.apply(listener('web', { listenerFilters: [HTTP_INSPECTOR], filterChains: [{ filters: [hcm('v1')] }] }));
  const get = (path: string): Promise<string> => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: h.port('web'), path, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
  assert.equal(await get('/first'), 'ok /first');
  await h.apply(listener('web', { listenerFilters: [HTTP_INSPECTOR], filterChains: [{ filters: [hcm('v2')] }] }));
  assert.deepEqual(drained, ['v1'], 'the replaced filter is told to drain');
  await until(() => closed.includes('v1'), 'the replaced filter is closed once its connections are gone');
  assert.equal(await get('/second'), 'ok /second');
  server.close();
});
