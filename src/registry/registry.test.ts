import { describe, it, mock, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, formatProblem, type KindName, type ResourceOf } from '../api/index.ts';
import { Registry, type ProxyWorkload, type RegistryChange, type RegistryConfig, type RegistrySnapshot } from './index.ts';

function config(yaml: string): RegistryConfig {
  const set = parseConfig(yaml, 'test.yaml');
  const errors = set.problems.filter((p) => p.severity === 'error');
  assert.equal(errors.length, 0, errors.map(formatProblem).join('\n'));
  return { of: <K extends KindName>(kind: K) => set.resources.filter((r) => r.kind === kind) as unknown as ResourceOf<K>[] };
}

function proxy(name: string, labels: Record<string, string>, address: string, extra: Partial<ProxyWorkload> = {}): ProxyWorkload {
  return {
    name, namespace: 'default', labels, serviceAccount: 'bookinfo', address, namedPorts: {}, weight: 1, healthy: true,
    origin: 'proxy', proxyId: `sidecar~${address}~${name}.default~default.svc.cluster.local`, ...extra,
  };
}

function service(snap: RegistrySnapshot, host: string) {
  const [s] = snap.servicesByHost(host);
  assert.ok(s, `no service ${host}; have ${snap.services.map((x) => x.hostname).join(', ')}`);
  return s;
}

function addrs(snap: RegistrySnapshot, host: string, port: number): string[] {
  return snap.endpoints(service(snap, host), port).map((e) => `${e.address}:${e.port}`);
}

const REVIEWS = `
apiVersion: v1
kind: Service
metadata: { name: reviews }
spec:
  selector: { app: reviews }
  ports:
  - { name: http, port: 9080, targetPort: http }
  - { name: grpc-admin, port: 9090 }
`;

describe('Registry: Service + registered proxies', () => {
  it('selects proxies by labels in the namespace and resolves a named targetPort', () => {
    const reg = new Registry();
    reg.setConfig(config(REVIEWS));
    reg.addProxy(proxy('reviews-v1', { app: 'reviews', version: 'v1' }, '127.0.1.2', { namedPorts: { http: 9081 } }));
    reg.addProxy(proxy('reviews-v2', { app: 'reviews', version: 'v2' }, '127.0.1.3', { namedPorts: { http: 9082 } }));
    reg.addProxy(proxy('reviews-noport', { app: 'reviews' }, '127.0.1.4'));
    reg.addProxy(proxy('ratings', { app: 'ratings' }, '127.0.1.5', { namedPorts: { http: 9080 } }));
    reg.addProxy(proxy('reviews-other-ns', { app: 'reviews' }, '127.0.1.6', { namespace: 'other', namedPorts: { http: 9080 } }));
    const snap = reg.snapshot();
    const svc = service(snap, 'reviews.default.svc.cluster.local');
    assert.equal(svc.resolution, 'STATIC');
    assert.deepEqual(svc.exportTo, ['*']);
    assert.deepEqual(svc.ports.map((p) => [p.name, p.port, p.protocol, p.targetPort]), [['http', 9080, 'HTTP', 'http'], ['grpc-admin', 9090, 'GRPC', 9090]]);
    // The named targetPort: each workload's own port; a workload without that name is skipped.
    assert.deepEqual(addrs(snap, svc.hostname, 9080), ['127.0.1.2:9081', '127.0.1.3:9082']);
    // A numeric targetPort applies to every selected workload.
    // Endpoints come in workload order (namespace, then name).
    assert.deepEqual(addrs(snap, svc.hostname, 9090), ['127.0.1.4:9090', '127.0.1.2:9090', '127.0.1.3:9090']);
    const [v1] = snap.endpoints(svc, 9080);
    assert.deepEqual(v1?.labels, { app: 'reviews', version: 'v1' });
    assert.equal(v1?.serviceAccount, 'bookinfo');
    assert.deepEqual(snap.endpoints(svc, 1234), [], 'an unknown service port has no endpoints');
    const ratings = snap.workloads.find((w) => w.name === 'ratings')!;
    assert.deepEqual(snap.servicesOf(ratings), []);
    assert.deepEqual(snap.servicesOf(snap.workloads.find((w) => w.name === 'reviews-v1')!).map((s) => s.hostname), [svc.hostname]);
  });

  it('a Service selects WorkloadEntries too; their ports map overrides a numeric targetPort by port name', () => {
    const reg = new Registry();
    reg.setConfig(config(`${REVIEWS}---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: reviews-vm, labels: { version: v3 } }
spec: { address: 10.0.0.9, labels: { app: reviews, version: ignored }, ports: { http: 7000, grpc-admin: 7001 } }
`));
    const snap = reg.snapshot();
    assert.deepEqual(addrs(snap, 'reviews.default.svc.cluster.local', 9080), ['10.0.0.9:7000']);
    assert.deepEqual(addrs(snap, 'reviews.default.svc.cluster.local', 9090), ['10.0.0.9:7001']);
    const we = snap.workloads.find((w) => w.name === 'reviews-vm')!;
    assert.deepEqual(we.labels, { app: 'reviews', version: 'v3' }, 'metadata labels win over spec labels, as in Istio');
    assert.equal(we.serviceAccount, 'default');
    assert.equal(we.weight, 1);
  });
});

describe('Registry: ServiceEntry', () => {
  it('STATIC with inline endpoints: ports map by port name, else targetPort, else port', () => {
    const reg = new Registry();
    const snap = reg.setConfig(config(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: legacy, namespace: apps }
spec:
  hosts: [legacy, legacy.example.com]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - { number: 80, name: http, protocol: http }
  - { number: 8443, name: tls, protocol: TLS, targetPort: 9443 }
  endpoints:
  - { address: 10.1.0.1, labels: { app: legacy }, ports: { http: 8080 }, weight: 3, locality: us/east }
  - { address: 10.1.0.2, labels: { app: legacy } }
---
apiVersion: v1
kind: Service
metadata: { name: grabber, namespace: apps }
spec:
  selector: { app: legacy }
  ports: [{ name: http, port: 80 }]
`));
    const short = service(snap, 'legacy.apps.svc.cluster.local');
    assert.equal(short.kind, 'ServiceEntry');
    assert.equal(short.resolution, 'STATIC');
    assert.equal(short.location, 'MESH_INTERNAL');
    assert.deepEqual(short.ports.map((p) => [p.name, p.port, p.protocol, p.targetPort]), [['http', 80, 'HTTP', 80], ['tls', 8443, 'TLS', 9443]]);
    assert.deepEqual(addrs(snap, 'legacy.example.com', 80), ['10.1.0.1:8080', '10.1.0.2:80']);
    assert.deepEqual(addrs(snap, 'legacy.example.com', 8443), ['10.1.0.1:9443', '10.1.0.2:9443']);
    const [first] = snap.endpoints(short, 80);
    assert.equal(first?.weight, 3);
    assert.equal(first?.locality, 'us/east');
    // Inline endpoints belong to their entry only: a Service with a matching selector does not see them.
    assert.deepEqual(addrs(snap, 'grabber.apps.svc.cluster.local', 80), []);
    const inline = snap.workloads.filter((w) => w.origin === 'ServiceEntry');
    assert.equal(inline.length, 2);
    assert.deepEqual(snap.servicesOf(inline[0]!).map((s) => s.hostname), ['legacy.apps.svc.cluster.local', 'legacy.example.com']);
  });

  it('DNS resolves the host itself when there are no endpoints; NONE has no endpoints', () => {
    const snap = new Registry().setConfig(config(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: google }
spec:
  hosts: [www.google.com]
  resolution: DNS
  ports: [{ number: 443, name: https, protocol: TLS }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: db }
spec:
  hosts: [db.internal]
  resolution: DNS
  ports: [{ number: 5432, name: tcp, protocol: TCP }]
  endpoints: [{ address: db-primary.example.com }, { address: 10.2.0.1, ports: { tcp: 6432 } }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: wild }
spec:
  hosts: ['*.wikipedia.org']
  ports: [{ number: 443, name: tls, protocol: TLS }]
`));
    const google = service(snap, 'www.google.com');
    assert.equal(google.resolution, 'DNS');
    assert.equal(google.location, 'MESH_EXTERNAL');
    assert.deepEqual(addrs(snap, 'www.google.com', 443), ['www.google.com:443']);
    assert.deepEqual(addrs(snap, 'db.internal', 5432), ['db-primary.example.com:5432', '10.2.0.1:6432']);
    assert.equal(service(snap, '*.wikipedia.org').resolution, 'NONE');
    assert.deepEqual(addrs(snap, '*.wikipedia.org', 443), []);
  });

  it('workloadSelector selects WorkloadEntries and proxies of its namespace', () => {
    const reg = new Registry();
    reg.setConfig(config(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: vm-api }
spec:
  hosts: [api.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP, targetPort: 8080 }]
  workloadSelector: { labels: { app: api } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: api-vm-1 }
spec: { address: 10.3.0.1, labels: { app: api }, ports: { http: 9000 }, serviceAccount: api }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: api-vm-2 }
spec: { address: 10.3.0.2, labels: { app: api, track: canary } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: api-elsewhere, namespace: other }
spec: { address: 10.3.0.3, labels: { app: api } }
`));
    reg.addProxy(proxy('api-pod', { app: 'api' }, '127.0.1.9'));
    const snap = reg.snapshot();
    assert.deepEqual(addrs(snap, 'api.internal', 80), ['127.0.1.9:8080', '10.3.0.1:9000', '10.3.0.2:8080']);
    const canary = snap.endpoints(service(snap, 'api.internal'), 80).find((e) => e.address === '10.3.0.2');
    assert.deepEqual(canary?.labels, { app: 'api', track: 'canary' });
    assert.equal(snap.endpoints(service(snap, 'api.internal'), 80)[1]?.serviceAccount, 'api');
  });

  it('exportTo: `.` becomes the namespace; Services read the networking.istio.io/exportTo annotation', () => {
    const snap = new Registry().setConfig(config(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: private, namespace: team-a }
spec:
  hosts: [private.example.com]
  exportTo: [., team-b]
  ports: [{ number: 80, name: http, protocol: HTTP }]
---
apiVersion: v1
kind: Service
metadata: { name: hidden, namespace: team-a, annotations: { networking.istio.io/exportTo: "~" } }
spec: { selector: { app: hidden }, ports: [{ name: http, port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: open, namespace: team-a }
spec: { selector: { app: open }, ports: [{ name: http, port: 80 }] }
`));
    assert.deepEqual(service(snap, 'private.example.com').exportTo, ['team-a', 'team-b']);
    assert.deepEqual(service(snap, 'hidden.team-a.svc.cluster.local').exportTo, ['~']);
    assert.deepEqual(service(snap, 'open.team-a.svc.cluster.local').exportTo, ['*']);
  });

  it('ExternalName Services resolve their external name', () => {
    const snap = new Registry().setConfig(config(`
apiVersion: v1
kind: Service
metadata: { name: ext }
spec: { type: ExternalName, externalName: api.example.com, ports: [{ name: https, port: 443 }] }
`));
    const ext = service(snap, 'ext.default.svc.cluster.local');
    assert.equal(ext.resolution, 'DNS');
    assert.deepEqual(addrs(snap, ext.hostname, 443), ['api.example.com:443']);
  });
});

describe('Registry: proxy removal grace', () => {
  afterEach(() => mock.timers.reset());

  it('removes a proxy after the grace period, not before', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const reg = new Registry({ removalGraceMs: 2000 });
    reg.setConfig(config(REVIEWS));
    const p = proxy('reviews-v1', { app: 'reviews' }, '127.0.1.2');
    reg.addProxy(p);
    const changes: RegistryChange[] = [];
    reg.onChange((_s, c) => changes.push(c));
    reg.removeProxy(p.proxyId);
    mock.timers.tick(1999);
    assert.equal(changes.length, 0);
    assert.equal(reg.snapshot().workloads.length, 1);
    mock.timers.tick(1);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]?.reason, 'proxy-removed');
    assert.equal(changes[0]?.endpointsOnly, true);
    assert.deepEqual([...changes[0]!.hosts], ['reviews.default.svc.cluster.local']);
    assert.equal(reg.snapshot().workloads.length, 0);
  });

  it('a reconnect within the grace period cancels the removal and publishes nothing when unchanged', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const reg = new Registry({ removalGraceMs: 2000 });
    const p = proxy('reviews-v1', { app: 'reviews' }, '127.0.1.2');
    reg.addProxy(p);
    const changes: RegistryChange[] = [];
    reg.onChange((_s, c) => changes.push(c));
    reg.removeProxy(p.proxyId);
    mock.timers.tick(1000);
    reg.addProxy({ ...p });
    mock.timers.tick(5000);
    assert.equal(changes.length, 0);
    assert.equal(reg.snapshot().workloads.length, 1);
    reg.addProxy({ ...p, labels: { app: 'reviews', version: 'v9' } });
    assert.equal(changes.length, 1);
    assert.equal(changes[0]?.reason, 'proxy-updated');
  });

  it('close() cancels pending removals', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const reg = new Registry({ removalGraceMs: 10 });
    const p = proxy('a', {}, '127.0.1.2');
    reg.addProxy(p);
    reg.removeProxy(p.proxyId);
    reg.close();
    mock.timers.tick(100);
    assert.equal(reg.snapshot().workloads.length, 1);
  });
});

describe('Registry: change detection', () => {
  const WE = (address: string, version = 'v1') => `${REVIEWS}---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: reviews-vm }
spec: { address: ${address}, labels: { app: reviews, version: ${version} }, ports: { http: 9080 } }
`;
  const VS = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec: { hosts: [reviews], http: [{ route: [{ destination: { host: reviews } }] }] }
`;

  function watch(reg: Registry): Array<{ snap: RegistrySnapshot; change: RegistryChange }> {
    const out: Array<{ snap: RegistrySnapshot; change: RegistryChange }> = [];
    reg.onChange((snap, change) => out.push({ snap, change }));
    return out;
  }

  it('endpointsOnly when only WorkloadEntry addresses or labels change', () => {
    const reg = new Registry();
    reg.setConfig(config(WE('10.0.0.1')));
    const events = watch(reg);
    reg.setConfig(config(WE('10.0.0.2')));
    reg.setConfig(config(WE('10.0.0.2', 'v2')));
    assert.equal(events.length, 2);
    for (const e of events) {
      assert.equal(e.change.endpointsOnly, true);
      assert.equal(e.change.reason, 'config');
      assert.deepEqual([...e.change.hosts], ['reviews.default.svc.cluster.local']);
    }
    assert.deepEqual(addrs(events[1]!.snap, 'reviews.default.svc.cluster.local', 9080), ['10.0.0.2:9080']);
    assert.equal(events[1]!.snap.services, events[0]!.snap.services, 'unchanged services keep their objects');
    assert.ok(events[1]!.snap.version > events[0]!.snap.version);
  });

  it('no event for config that does not concern the registry; a service change is not endpointsOnly', () => {
    const reg = new Registry();
    reg.setConfig(config(WE('10.0.0.1')));
    const events = watch(reg);
    reg.setConfig(config(WE('10.0.0.1') + VS));
    assert.equal(events.length, 0);
    reg.setConfig(config(WE('10.0.0.1').replace('port: 9090', 'port: 9091')));
    assert.equal(events.length, 1);
    assert.equal(events[0]?.change.endpointsOnly, false);
    assert.ok(events[0]?.change.hosts.has('reviews.default.svc.cluster.local'));
  });

  it('a proxy joining is endpointsOnly and names the hosts that select it', () => {
    const reg = new Registry();
    reg.setConfig(config(REVIEWS));
    const events = watch(reg);
    reg.addProxy(proxy('reviews-v1', { app: 'reviews' }, '127.0.1.2', { namedPorts: { http: 9080 } }));
    reg.addProxy(proxy('lonely', { app: 'lonely' }, '127.0.1.3'));
    assert.deepEqual(events.map((e) => [e.change.reason, e.change.endpointsOnly, [...e.change.hosts]]), [
      ['proxy-added', true, ['reviews.default.svc.cluster.local']],
      ['proxy-added', true, []],
    ]);
  });

  it('a listener that throws does not stop the others', () => {
    const logged: string[] = [];
    const reg = new Registry({ log: (m) => logged.push(m) });
    let called = false;
    reg.onChange(() => { throw new Error('boom'); });
    reg.onChange(() => { called = true; });
    reg.setConfig(config(REVIEWS));
    assert.ok(called);
    assert.match(logged[0] ?? '', /boom/);
  });
});

describe('Registry: a change of WorkloadEntries only', () => {
  const entry = (name: string, address: string, app = 'reviews') => `---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: ${name} }
spec: { address: ${address}, labels: { app: ${app} }, ports: { http: 9080 } }
`;
  /** A config that can find resources by key, and counts full reads. */
  function findable(yaml: string): RegistryConfig & { reads: number } {
    const base = config(yaml);
    const all = (['Service', 'ServiceEntry', 'WorkloadEntry', 'WorkloadGroup'] as const).flatMap((k) => base.of(k) as readonly { kind: string; metadata: { name: string; namespace?: string } }[]);
    const out = {
      reads: 0,
      of: <K extends KindName>(kind: K) => { out.reads++; return base.of(kind); },
      find: (key: string) => all.find((r) => `${r.kind}/${r.metadata.namespace ?? 'default'}/${r.metadata.name}` === key),
    };
    return out;
  }
  const view = (snap: RegistrySnapshot) => ({
    workloads: snap.workloads.map((w) => `${w.namespace}/${w.name}@${w.address}`),
    endpoints: addrs(snap, 'reviews.default.svc.cluster.local', 9080),
  });

  it('converts only the entries named, and ends where a full rebuild does', () => {
    const steps: [string, string[]][] = [
      [entry('a', '10.0.0.1') + entry('b', '10.0.0.2') + entry('c', '10.0.0.3'), []],
      [entry('a', '10.0.0.1') + entry('b', '10.0.0.9') + entry('c', '10.0.0.3'), ['WorkloadEntry/default/b']],
      [entry('a', '10.0.0.1') + entry('b', '10.0.0.9') + entry('c', '10.0.0.3') + entry('d', '10.0.0.4'), ['WorkloadEntry/default/d']],
      [entry('a', '10.0.0.1') + entry('b', '10.0.0.9') + entry('d', '10.0.0.4'), ['WorkloadEntry/default/c']],
      [entry('a', '10.0.0.1', 'ratings') + entry('b', '10.0.0.9') + entry('d', '10.0.0.4'), ['WorkloadEntry/default/a']],
      // Named as changed, but equal: nothing to publish.
      [entry('a', '10.0.0.1', 'ratings') + entry('b', '10.0.0.9') + entry('d', '10.0.0.4'), ['WorkloadEntry/default/b']],
    ];
    const fast = new Registry();
    const full = new Registry();
    const fastEvents = watchAll(fast);
    const fullEvents = watchAll(full);
    fast.setConfig(config(REVIEWS + steps[0]![0]));
    full.setConfig(config(REVIEWS + steps[0]![0]));
    for (const [yaml, keys] of steps.slice(1)) {
      const cfg = findable(REVIEWS + yaml);
      fast.setConfig(cfg, keys);
      assert.equal(cfg.reads, 0, `a WorkloadEntry change reads no kind in full (${keys.join(', ')})`);
      full.setConfig(config(REVIEWS + yaml));
      assert.deepEqual(view(fast.snapshot()), view(full.snapshot()), `after ${keys.join(', ')}`);
      assert.equal(fastEvents.length, fullEvents.length, `published the same changes after ${keys.join(', ')}`);
      const [f, g] = [fastEvents.at(-1)!, fullEvents.at(-1)!];
      assert.deepEqual([f.endpointsOnly, [...f.hosts].sort()], [g.endpointsOnly, [...g.hosts].sort()]);
    }
    assert.deepEqual(view(fast.snapshot()).endpoints, ['10.0.0.9:9080', '10.0.0.4:9080']);
    assert.equal(fastEvents.length, 5, 'every step but the unchanged one published');
  });

  it('takes the full path when anything but WorkloadEntries changed', () => {
    const reg = new Registry();
    reg.setConfig(config(REVIEWS + entry('a', '10.0.0.1')));
    const cfg = findable(REVIEWS.replace('port: 9080, targetPort: http', 'port: 9081, targetPort: http') + entry('a', '10.0.0.1'));
    reg.setConfig(cfg, ['Service/default/reviews']);
    assert.ok(cfg.reads > 0);
    assert.deepEqual(addrs(reg.snapshot(), 'reviews.default.svc.cluster.local', 9081), ['10.0.0.1:9080']);
  });

  function watchAll(reg: Registry): RegistryChange[] {
    const out: RegistryChange[] = [];
    reg.onChange((_snap, change) => out.push(change));
    return out;
  }
});
