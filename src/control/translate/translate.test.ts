/**
 * Translation end to end, by simulation: config + proxies → generated xDS (encoded and decoded with the
 * real protos) → where a call lands (Istio's pilot/pkg/simulation idea). Asserts clusters and endpoints,
 * not proto shapes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testMesh, type NodeSpec } from './harness.ts';
import { routeClusters } from './consistency.ts';
import { outboundClusterNames, outboundClustersFor } from './clusters.ts';
import { TYPE } from '../../xds/type-urls.ts';

const BOOKINFO = `
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: productpage}
spec:
  selector: {app: productpage}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: mysql, namespace: db}
spec:
  selector: {app: mysql}
  ports: [{name: tcp, port: 3306}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
`;

const JASON = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
`;

const NODES: NodeSpec[] = [
  { name: 'productpage-v1', ip: '127.0.1.1', labels: { app: 'productpage', version: 'v1' }, ports: [{ name: 'http', containerPort: 9080 }] },
  { name: 'reviews-v1', ip: '127.0.1.2', labels: { app: 'reviews', version: 'v1' }, ports: [{ name: 'http', containerPort: 9080 }] },
  { name: 'reviews-v2', ip: '127.0.1.3', labels: { app: 'reviews', version: 'v2' }, ports: [{ name: 'http', containerPort: 9080 }] },
  { name: 'reviews-v3', ip: '127.0.1.4', labels: { app: 'reviews', version: 'v3' }, ports: [{ name: 'http', containerPort: 9080 }] },
  { name: 'mysql-0', namespace: 'db', ip: '127.0.1.9', labels: { app: 'mysql' }, ports: [{ name: 'tcp', containerPort: 3306 }] },
];

const REVIEWS = 'reviews.default.svc.cluster.local';
const out = (subset: string, host = REVIEWS, port = 9080) => `outbound|${port}|${subset}|${host}`;
const viaProxy = (authority: string, extra: Record<string, unknown> = {}) => ({ port: 15001, address: '127.0.1.1', authority, path: '/reviews/0', ...extra });

describe('sidecar translation (local mode)', () => {
  it('routes by authority through the HTTP proxy listener to every endpoint of the service', () => {
    const m = testMesh(BOOKINFO, NODES);
    const r = m.call('productpage-v1', viaProxy('reviews:9080'));
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.listener, 'virtualOutbound');
    assert.equal(r.cluster, out(''));
    assert.deepEqual([...r.endpoints!].sort(), ['127.0.1.2:9080', '127.0.1.3:9080', '127.0.1.4:9080']);
    for (const authority of [`${REVIEWS}:9080`, 'reviews.default:9080', 'reviews.default.svc:9080']) {
      assert.equal(m.call('productpage-v1', viaProxy(authority)).cluster, out(''), authority);
    }
  });

  it('applies VirtualService header matches and DestinationRule subsets', () => {
    const m = testMesh(BOOKINFO + JASON, NODES);
    const jason = m.call('productpage-v1', viaProxy('reviews:9080', { headers: { 'end-user': 'jason' } }));
    assert.equal(jason.cluster, out('v2'));
    assert.deepEqual(jason.endpoints, ['127.0.1.3:9080']);
    const other = m.call('productpage-v1', viaProxy('reviews:9080', { headers: { 'end-user': 'mary' } }));
    assert.equal(other.cluster, out('v1'));
    assert.deepEqual(other.endpoints, ['127.0.1.2:9080']);
  });

  it('splits traffic by weight', () => {
    const vs = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 80}
    - {destination: {host: reviews, subset: v3}, weight: 20}
`;
    const r = testMesh(BOOKINFO + vs, NODES).call('productpage-v1', viaProxy('reviews:9080'));
    assert.deepEqual(r.clusters.map((c) => [c.name, c.weight, c.endpoints]), [[out('v1'), 80, ['127.0.1.2:9080']], [out('v3'), 20, ['127.0.1.4:9080']]]);
  });

  it('answers 503 naming the cause for a subset no DestinationRule defines (no dangling cluster)', () => {
    const vs = JASON.replace('subset: v1', 'subset: v4');
    const m = testMesh(BOOKINFO + vs, NODES);
    const r = m.call('productpage-v1', viaProxy('reviews:9080'));
    assert.equal(r.action, 'direct_response');
    assert.equal(r.status, 503);
    assert.match(r.responseHeaders?.['x-weft-error'] ?? '', /cluster-not-found: outbound\|9080\|v4\|reviews/);
  });

  it('forwards inbound mesh traffic to the app port', () => {
    const nodes = NODES.map((n) => (n.name === 'reviews-v1' ? { ...n } : n));
    const m = testMesh(BOOKINFO, nodes);
    const r = m.call('reviews-v1', { port: 9080, address: '127.0.1.2', authority: 'reviews:9080', path: '/' });
    assert.equal(r.cluster, 'inbound|9080||');
    assert.deepEqual(r.endpoints, ['127.0.0.1:9080']);
  });

  it('tunnels TCP services with CONNECT, and routes unknown hosts per outboundTrafficPolicy', () => {
    const m = testMesh(BOOKINFO, NODES);
    const tcp = m.call('productpage-v1', { port: 15001, address: '127.0.1.1', authority: 'mysql.db:3306', method: 'CONNECT' });
    assert.equal(tcp.cluster, 'outbound|3306||mysql.db.svc.cluster.local');
    assert.deepEqual(tcp.endpoints, ['127.0.1.9:3306']);
    assert.equal(m.call('productpage-v1', viaProxy('example.com')).cluster, 'PassthroughCluster');
    const locked = testMesh(BOOKINFO + `
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
  egress: [{hosts: ["./*", "db/*"]}]
`, NODES);
    const blocked = locked.call('productpage-v1', viaProxy('example.com'));
    assert.equal(blocked.status, 502);
  });

  it('scopes what a proxy sees with Sidecar egress hosts and exportTo', () => {
    const scoped = testMesh(BOOKINFO + `
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default}
spec:
  egress: [{hosts: ["./*"]}]
`, NODES);
    const cds = Object.keys(scoped.config('productpage-v1').clusters ?? {});
    assert.ok(cds.includes(out('')));
    assert.ok(!cds.some((c) => c.includes('mysql')), cds.join(' '));
    const hidden = testMesh(BOOKINFO + `
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: private-api, namespace: db}
spec:
  hosts: [api.internal.example]
  exportTo: ["."]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
`, NODES);
    assert.ok(!Object.keys(hidden.config('productpage-v1').clusters ?? {}).some((c) => c.includes('api.internal')));
    assert.ok(Object.keys(hidden.config('mysql-0').clusters ?? {}).some((c) => c.includes('api.internal')));
  });

  it('lists outbound cluster names exactly as the clusters it builds (the consistency pass relies on it)', () => {
    const m = testMesh(BOOKINFO + JASON, NODES);
    for (const p of m.proxies.values()) assert.deepEqual(outboundClusterNames(m.ctx, p), outboundClustersFor(m.ctx, p).map((c) => c.name));
  });

  it('never sends a route naming a cluster the proxy did not get', () => {
    const m = testMesh(BOOKINFO + JASON.replace('subset: v1', 'subset: v9'), NODES);
    for (const node of NODES) {
      const cfg = m.config(node.name);
      const clusters = new Set(Object.keys(cfg.clusters ?? {}));
      for (const rc of Object.values(cfg.routes ?? {})) {
        for (const vh of (rc['virtualHosts'] as Record<string, unknown>[] | undefined) ?? []) {
          for (const route of (vh['routes'] as Record<string, unknown>[] | undefined) ?? []) {
            for (const c of routeClusters(route)) assert.ok(clusters.has(c), `${node.name}: route names missing cluster ${c}`);
          }
        }
      }
    }
  });
});

describe('sidecar routes over VHDS', () => {
  const VHDS_NODES: NodeSpec[] = NODES.map((n) => ({ ...n, vhds: true }));

  it('sends route configurations holding only the catch-all, and one virtual host resource per service port', () => {
    const m = testMesh(BOOKINFO + JASON, VHDS_NODES);
    const p = m.proxies.get('productpage-v1')!;
    const [rc] = m.generator.objects(m.ctx, p, TYPE.route, ['15001']);
    assert.deepEqual(rc?.['vhds'], { configSource: { ads: {}, resourceApiVersion: 'V3' } });
    assert.deepEqual((rc?.['virtualHosts'] as { name: string }[]).map((v) => v.name), ['allow_any']);
    const hosts = m.generator.generate(p, TYPE.virtualHost, ['15001']).resources.map((r) => r.name).sort();
    assert.deepEqual(hosts, [`15001/mysql.db.svc.cluster.local:3306`, `15001/productpage.default.svc.cluster.local:9080`, `15001/${REVIEWS}:9080`]);
    // An on-demand name asks for that virtual host alone.
    assert.deepEqual(m.generator.generate(p, TYPE.virtualHost, [`15001/${REVIEWS}:9080`]).resources.map((r) => r.name), [`15001/${REVIEWS}:9080`]);
  });

  it('routes every call as the inline route configuration does', () => {
    const inline = testMesh(BOOKINFO + JASON, NODES);
    const vhds = testMesh(BOOKINFO + JASON, VHDS_NODES);
    const calls = [
      viaProxy('reviews:9080', { headers: { 'end-user': 'jason' } }), viaProxy('reviews:9080'), viaProxy(`${REVIEWS}:9080`),
      viaProxy('productpage:9080'), viaProxy('unknown.example.com:80'), viaProxy('mysql.db:3306', { method: 'CONNECT' }),
    ];
    for (const c of calls) {
      const [a, b] = [inline.call('productpage-v1', c), vhds.call('productpage-v1', c)];
      assert.deepEqual([b.ok, b.cluster, b.status], [a.ok, a.cluster, a.status], c.authority);
    }
    assert.equal(vhds.call('productpage-v1', calls[0]!).cluster, out('v2'));
  });

  it('a VirtualService change alters only that service\'s virtual host', () => {
    const before = testMesh(BOOKINFO, VHDS_NODES);
    const after = testMesh(BOOKINFO + JASON, VHDS_NODES);
    const versions = (m: typeof before) => new Map(m.generator.generate(m.proxies.get('productpage-v1')!, TYPE.virtualHost, ['15001']).resources.map((r) => [r.name, r.version]));
    const [a, b] = [versions(before), versions(after)];
    const changed = [...b.keys()].filter((n) => a.get(n) !== b.get(n));
    assert.deepEqual(changed, [`15001/${REVIEWS}:9080`]);
  });
});

describe('gateway translation', () => {
  const GW = `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match: [{uri: {exact: /productpage}}, {uri: {prefix: /static}}]
    route: [{destination: {host: productpage, port: {number: 9080}}}]
`;
  const gateway: NodeSpec = { kind: 'router', name: 'ingressgateway', namespace: 'istio-system', ip: '127.0.0.1', labels: { istio: 'ingressgateway' } };

  it('listens on the Gateway server port and routes bound VirtualServices', () => {
    const m = testMesh(BOOKINFO + GW, [...NODES, gateway]);
    const r = m.call('ingressgateway', { port: 8080, address: '127.0.0.1', authority: 'localhost:8080', path: '/productpage' });
    assert.equal(r.listener, '0.0.0.0_8080');
    assert.equal(r.routeConfig, 'http.8080');
    assert.equal(r.cluster, 'outbound|9080||productpage.default.svc.cluster.local');
    assert.deepEqual(r.endpoints, ['127.0.1.1:9080']);
    const miss = m.call('ingressgateway', { port: 8080, address: '127.0.0.1', authority: 'localhost:8080', path: '/admin' });
    assert.equal(miss.error?.code, 'NO_ROUTE');
  });

  it('gets nothing from Gateways whose selector does not match, and sidecars ignore gateway-bound routes', () => {
    const m = testMesh(BOOKINFO + GW, [...NODES, { ...gateway, labels: { istio: 'egressgateway' } }]);
    assert.deepEqual(Object.keys(m.config('ingressgateway').listeners), []);
    const r = m.call('productpage-v1', { port: 15001, address: '127.0.1.1', authority: 'productpage:9080', path: '/admin' });
    assert.equal(r.cluster, 'outbound|9080||productpage.default.svc.cluster.local');
  });
});

describe('proxyless gRPC translation', () => {
  it('serves api listeners named by target, with routes and EDS clusters', () => {
    const grpc: NodeSpec = { kind: 'grpc', name: 'client', ip: '127.0.1.50', labels: { app: 'client' } };
    const m = testMesh(BOOKINFO.replaceAll('name: http, port: 9080', 'name: grpc, port: 9080') + JASON, [...NODES, grpc]);
    const listeners = m.config('client').listeners;
    assert.ok(`${REVIEWS}:9080` in listeners);
    const r = m.call('client', { port: 9080, authority: `${REVIEWS}:9080`, path: '/reviews.Reviews/Get', method: 'POST', protocol: 'http2', headers: { 'end-user': 'jason', 'content-type': 'application/grpc' } });
    assert.equal(r.cluster, out('v2'), JSON.stringify(r.error));
    assert.deepEqual(r.endpoints, ['127.0.1.3:9080']);
  });
});

describe('TCP and TLS routes (tcp_proxy)', () => {
  const gateway: NodeSpec = { kind: 'router', name: 'ingressgateway', namespace: 'istio-system', ip: '127.0.0.1', labels: { istio: 'ingressgateway' } };
  const TCP_ECHO = `
---
apiVersion: v1
kind: Service
metadata: {name: tcp-echo}
spec:
  selector: {app: tcp-echo}
  ports: [{name: tcp, port: 9000}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: tcp-echo}
spec:
  host: tcp-echo
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: tcp-echo-gateway}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]
  - port: {number: 443, name: tls, protocol: TLS}
    hosts: ["*.example.com"]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp-echo}
spec:
  hosts: ["*"]
  gateways: [tcp-echo-gateway]
  tcp:
  - match: [{port: 31400}]
    route:
    - {destination: {host: tcp-echo, port: {number: 9000}, subset: v1}, weight: 80}
    - {destination: {host: tcp-echo, port: {number: 9000}, subset: v2}, weight: 20}
  tls:
  - match: [{port: 443, sniHosts: [echo.example.com]}]
    route: [{destination: {host: tcp-echo, port: {number: 9000}, subset: v2}}]
`;
  const echoNodes: NodeSpec[] = [
    { name: 'tcp-echo-v1', ip: '127.0.1.21', labels: { app: 'tcp-echo', version: 'v1' }, ports: [{ name: 'tcp', containerPort: 9000 }] },
    { name: 'tcp-echo-v2', ip: '127.0.1.22', labels: { app: 'tcp-echo', version: 'v2' }, ports: [{ name: 'tcp', containerPort: 9000 }] },
    gateway,
  ];
  const echo = (subset: string) => `outbound|9000|${subset}|tcp-echo.default.svc.cluster.local`;

  it('gateway TCP servers split by weight (Istio\'s TCP traffic shifting task)', () => {
    const r = testMesh(BOOKINFO + TCP_ECHO, echoNodes).call('ingressgateway', { port: 31400, address: '127.0.0.1', protocol: 'tcp' });
    assert.equal(r.action, 'tcp_proxy', JSON.stringify(r.error));
    assert.deepEqual(r.clusters.map((c) => [c.name, c.weight, c.endpoints]), [[echo('v1'), 80, ['127.0.1.21:9000']], [echo('v2'), 20, ['127.0.1.22:9000']]]);
  });

  it('gateway TLS passthrough routes by SNI without terminating', () => {
    const m = testMesh(BOOKINFO + TCP_ECHO, echoNodes);
    const r = m.call('ingressgateway', { port: 443, address: '127.0.0.1', protocol: 'tcp', tls: true, sni: 'echo.example.com' });
    assert.equal(r.cluster, echo('v2'), JSON.stringify(r.error));
    const other = m.call('ingressgateway', { port: 443, address: '127.0.0.1', protocol: 'tcp', tls: true, sni: 'other.example.com' });
    assert.equal(other.error?.code, 'NO_FILTER_CHAIN');
  });

  it('CONNECT through the HTTP proxy listener follows VirtualService tcp rules', () => {
    const vs = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mysql, namespace: db}
spec:
  hosts: [mysql]
  tcp:
  - match: [{port: 3306}]
    route:
    - {destination: {host: mysql, port: {number: 3306}}, weight: 70}
    - {destination: {host: mysql-replica, port: {number: 3306}}, weight: 30}
---
apiVersion: v1
kind: Service
metadata: {name: mysql-replica, namespace: db}
spec:
  selector: {app: mysql}
  ports: [{name: tcp, port: 3306}]
`;
    const r = testMesh(BOOKINFO + vs, NODES).call('productpage-v1', { port: 15001, address: '127.0.1.1', authority: 'mysql.db:3306', method: 'CONNECT' });
    assert.deepEqual(r.clusters.map((c) => [c.name, c.weight]), [['outbound|3306||mysql.db.svc.cluster.local', 70], ['outbound|3306||mysql-replica.db.svc.cluster.local', 30]]);
  });

  it('sidecar egress listeners with an explicit TCP port proxy to the service on that port', () => {
    const sidecar = `
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default}
spec:
  egress:
  - port: {number: 3306, protocol: TCP, name: mysql}
    bind: 127.0.1.1
    hosts: ["db/*"]
  - hosts: ["./*", "db/*"]
`;
    const r = testMesh(BOOKINFO + sidecar, NODES).call('productpage-v1', { port: 3306, address: '127.0.1.1', protocol: 'tcp' });
    assert.equal(r.listener, '127.0.1.1_3306');
    assert.equal(r.cluster, 'outbound|3306||mysql.db.svc.cluster.local', JSON.stringify(r.error));
    assert.deepEqual(r.endpoints, ['127.0.1.9:3306']);
  });
});
