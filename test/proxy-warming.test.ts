/**
 * Listener warming with a real proxy: a listener whose HTTP connection manager names a route
 * configuration over RDS does not bind until that route configuration has arrived (the old version of a
 * listener keeps serving meanwhile, as in Envoy), and the proxy is not ready before it.
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/listeners/listeners#listener-warming
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Proxy } from '../src/proxy/proxy.ts';
import { parseBootstrap } from '../src/proxy/bootstrap.ts';
import { TYPE } from '../src/xds/type-urls.ts';
import { TestXdsServer } from './support/xds-test-server.ts';
import { waitFor } from './support/control-process.ts';
import { closedPort } from './support/tcp-servers.ts';

const accepts = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

const hcmListener = (name: string, port: number) => ({
  name,
  address: { socketAddress: { address: '127.0.0.1', portValue: port } },
  filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: {
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    statPrefix: name, rds: { routeConfigName: 'late', configSource: { ads: {} } },
    httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
  } }] }],
});

describe('listener warming (a real proxy against an ADS server)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => { for (const c of cleanup.reverse()) await c(); });

  it('binds a listener only once its route configuration arrived; ready only then', async () => {
    const server = await TestXdsServer.start({ delta: true });
    cleanup.push(() => server.stop());
    const port = await closedPort();
    server.resources.set(TYPE.listener, [hcmListener('http', port)]);
    server.resources.set(TYPE.cluster, []);
    // The route configuration is held back: the server does not answer for it yet (a reply naming it
    // absent would end the warming too, as Envoy does).
    server.resources.failing.add(TYPE.route);
    const bootstrap = parseBootstrap('sidecar', { control: server.address, name: 'w', ip: '127.0.0.1' }, {});
    const proxy = await Proxy.start({ bootstrap, ports: { admin: 0, health: 0, prometheus: 0 }, logSink: () => {}, drainTimeoutMs: 100 });
    cleanup.push(() => proxy.stop());
    await waitFor('the listener to be known', () => proxy.listeners.status('http'));
    await waitFor('the route subscription', () => (server.ads.status()[0]?.types[TYPE.route]?.subscribed as string[] | undefined)?.includes('late') || undefined);
    assert.equal(proxy.listeners.status('http')?.state, 'warming');
    assert.equal(await accepts(port), false, 'a warming listener does not accept');
    assert.equal(proxy.ready, false);

    server.resources.failing.delete(TYPE.route);
    server.resources.set(TYPE.route, [{ name: 'late', virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, directResponse: { status: 200, body: { inlineString: 'ok' } } }] }] }]);
    server.resources.push({ types: [TYPE.route] });
    await proxy.whenReady();
    assert.equal(proxy.listeners.status('http')?.state, 'active');
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), 'ok');
  });
});
