import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, assertValid, check, doc } from '../../testing.ts';

const se = (spec: string, name = 'se') => doc('ServiceEntry', 'networking.istio.io/v1', spec, name);

describe('ServiceEntry', () => {
  it('accepts every served version', () => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
      assertValid(doc('ServiceEntry', `networking.istio.io/${v}`, `
hosts: [httpbin.org]
ports:
- {number: 80, name: http, protocol: HTTP}
location: MESH_EXTERNAL
resolution: DNS`), { noWarnings: true });
    }
  });

  it('accepts the reference examples: external HTTPS, CIDR with STATIC endpoints, wildcard NONE, DNS endpoints', () => {
    assertValid(se(`
hosts: [api.dropboxapi.com, www.googleapis.com]
ports:
- {number: 443, name: https, protocol: TLS}
location: MESH_EXTERNAL
resolution: DNS`), { noWarnings: true });
    assertValid(se(`
hosts: [mymongodb.somedomain]
addresses: [192.192.192.192/24]
ports:
- {number: 27018, name: mongodb, protocol: MONGO}
location: MESH_INTERNAL
resolution: STATIC
endpoints:
- address: 2.2.2.2
- address: 3.3.3.3`), { noWarnings: true });
    assertValid(se(`
hosts: ["*.bar.com"]
location: MESH_EXTERNAL
ports:
- {number: 80, name: http, protocol: HTTP}
resolution: NONE`), { noWarnings: true });
    assertValid(se(`
hosts: [foo.bar.com]
location: MESH_EXTERNAL
ports:
- {number: 443, name: https, protocol: HTTPS}
resolution: DNS
endpoints:
- {address: us.foo.bar.com, ports: {https: 8443}, locality: us-west/zone1, weight: 10}
- {address: uk.foo.bar.com, ports: {https: 9443}, network: net2, labels: {region: uk}}`), { noWarnings: true });
  });

  it('accepts MESH_INTERNAL with a workloadSelector, unix socket endpoints and DNS_ROUND_ROBIN', () => {
    assertValid(se(`
hosts: [details.bookinfo.com]
location: MESH_INTERNAL
ports:
- {number: 80, name: http, protocol: HTTP, targetPort: 8080}
resolution: STATIC
workloadSelector:
  labels: {app: details-legacy}
exportTo: ["~"]
subjectAltNames: ["spiffe://cluster.local/ns/bookinfo/sa/details-legacy"]`), { noWarnings: true });
    assertValid(se(`
hosts: [example.unix.local]
location: MESH_EXTERNAL
ports:
- {number: 80, name: http, protocol: HTTP}
resolution: STATIC
endpoints:
- address: unix:///var/run/example/socket`), { noWarnings: true });
    assertValid(se(`
hosts: [db.example.com]
addresses: [10.1.2.3]
ports:
- {number: 5432, name: tcp-pg, protocol: TCP}
resolution: DNS_ROUND_ROBIN
endpoints:
- address: db-primary.example.com`), { noWarnings: true });
  });

  it("accepts the odd cases of Istio's serviceentry-valid.yaml, with warnings where Istio warns", () => {
    assertValid(se(`
hosts: [example.com]
workloadSelector: {labels: {foo: bar}}
addresses: [1.2.3.4, "001:db8::"]
exportTo: [foo, .]
location: MESH_EXTERNAL
ports: [{name: foo, protocol: HTTP, number: 1234, targetPort: 2345}]
subjectAltNames: [sa]
resolution: DNS`));
    assertValid(se('workloadSelector: {}\nhosts: [example.com]'));
    assertValid(se('hosts: ["*x"]'));
    assertValid(se('hosts: [example.com]\naddresses: [1.1.1.1/32]'), { noWarnings: true });
  });

  it('checks hosts', () => {
    assertProblem(se('ports: [{number: 80, name: http, protocol: HTTP}]'), 'spec.hosts', 'is required');
    assertProblem(se('hosts: []'), 'spec.hosts', 'at least one');
    assertProblem(se('hosts: ["*"]'), 'spec.hosts[0]', 'cannot be "*"');
    assertProblem(se('hosts: ["*foo.com"]'), 'spec.hosts[0]', 'partial wildcard "*foo.com"', 'warning');
    assertProblem(se('hosts: ["foo.*.com"]'), 'spec.hosts[0]', 'first label');
    assertProblem(se('hosts: ["bad_host.com"]'), 'spec.hosts[0]', 'domain name');
    assertProblem(se(`
hosts: ["*.example.com"]
ports: [{number: 443, name: https, protocol: TLS}]
resolution: DNS`), 'spec.hosts[0]', 'cannot be wildcards (got "*.example.com")');
  });

  it('checks addresses against the resolution', () => {
    assertProblem(se('hosts: [a.example.com]\naddresses: [10.0.0.300]'), 'spec.addresses[0]', 'IP address or a CIDR block');
    assertProblem(se(`
hosts: [a.example.com]
addresses: [10.0.0.0/24]
ports: [{number: 80, name: http, protocol: HTTP}]
resolution: DNS`), 'spec.addresses[0]', 'only allowed with resolution NONE or STATIC (got 10.0.0.0/24 with DNS)');
  });

  it('checks ports: uniqueness, names, protocols and target ports', () => {
    const two = (a: string, b: string) => se(`hosts: [a.example.com]\nports:\n- ${a}\n- ${b}`);
    assertProblem(two('{number: 80, name: http, protocol: HTTP}', '{number: 81, name: http, protocol: HTTP}'), 'spec.ports[1].name', 'port name "http" is already used by ports[0]');
    assertProblem(two('{number: 80, name: http, protocol: HTTP}', '{number: 80, name: http2, protocol: HTTP2}'), 'spec.ports[1].number', 'port 80 is already defined by ports[0]');
    assertProblem(se('hosts: [a.example.com]\nports: [{number: 80, name: Http, protocol: HTTP}]'), 'spec.ports[0].name', 'DNS-1123 label');
    assertProblem(se('hosts: [a.example.com]\nports: [{number: 80, protocol: HTTP}]'), 'spec.ports[0].name', 'is required');
    assertProblem(se('hosts: [a.example.com]\nports: [{number: 80, name: http, protocol: HTTPZ}]'), 'spec.ports[0].protocol', 'unsupported protocol "HTTPZ"');
    assertProblem(se('hosts: [a.example.com]\nports: [{number: 0, name: http}]'), 'spec.ports[0].number', '(got 0)');
    assertProblem(se('hosts: [a.example.com]\nports: [{number: 80, name: http, targetPort: 70000}]\nresolution: STATIC\nendpoints: [{address: 1.1.1.1}]'), 'spec.ports[0].targetPort', '(got 70000)');
    assertProblem(se('hosts: [a.example.com]\nports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]'), 'spec.ports[0].targetPort', 'no effect with resolution NONE', 'warning');
    assertValid(se('hosts: [a.example.com]\nports: [{number: 9000, name: tcp}]\naddresses: [10.0.0.1]'), { noWarnings: true });
  });

  it('checks endpoints and the workload selector against the resolution', () => {
    assertProblem(se('hosts: [a.example.com]\nendpoints: [{address: 1.1.1.1}]'), 'spec.endpoints', 'resolution NONE cannot have endpoints');
    assertProblem(se('hosts: [a.example.com]\nresolution: NONE\nworkloadSelector: {labels: {app: a}}'), 'spec.workloadSelector', 'no effect with resolution NONE', 'warning');
    assertProblem(se(`
hosts: [a.example.com]
resolution: STATIC
workloadSelector: {labels: {app: a}}
endpoints: [{address: 1.1.1.1}]`), 'spec.workloadSelector', 'only one of workloadSelector or endpoints');
    assertProblem(se('hosts: [a.example.com]\nresolution: STATIC\nworkloadSelector: {labels: {app: "a*"}}'), 'spec.workloadSelector.labels.app', 'wildcards are not supported');
    assertProblem(se('hosts: [a.example.com]\nresolution: STATIC\nworkloadSelector: {}'), 'spec.workloadSelector', 'selects every workload', 'warning');
    assertProblem(se('hosts: [a.example.com]\nresolution: STATIC'), 'spec.resolution', 'without endpoints or workloadSelector', 'warning');
    assertProblem(se('hosts: [a.example.com]\nresolution: DNS\nworkloadSelector: {labels: {app: a}}'), 'spec.workloadSelector', 'not meant for resolution DNS', 'warning');
    assertProblem(se('hosts: [a.example.com]\nresolution: LOOKUP'), 'spec.resolution', 'must be one of NONE, STATIC, DNS, DNS_ROUND_ROBIN');
    assertProblem(se('hosts: [a.example.com]\nlocation: EXTERNAL'), 'spec.location', 'must be one of MESH_EXTERNAL, MESH_INTERNAL');
  });

  it('checks STATIC endpoints: IPs or unix sockets, declared port names', () => {
    const stat = (ports: string, endpoints: string) => se(`hosts: [a.example.com]\nresolution: STATIC\nports: ${ports}\nendpoints: ${endpoints}`);
    const http = '[{number: 80, name: http, protocol: HTTP}]';
    assertProblem(stat(http, '[{address: db.example.com}]'), 'spec.endpoints[0].address', 'STATIC endpoints must be an IP address or unix:// socket (got "db.example.com")');
    assertProblem(stat(http, '[{address: 1.1.1.1, ports: {grpc: 9090}}]'), 'spec.endpoints[0].ports.grpc', 'endpoint port "grpc" (9090) is not one of the ServiceEntry\'s port names (http)');
    assertProblem(stat(http, '[{address: 1.1.1.1, ports: {http: 0}}]'), 'spec.endpoints[0].ports.http', '(got 0)');
    assertProblem(stat(http, '[{address: "unix://var/run/sock"}]'), 'spec.endpoints[0].address', 'absolute path');
    assertProblem(stat(http, '[{address: "unix:///var/run/sock", ports: {http: 80}}]'), 'spec.endpoints[0].ports', 'cannot have ports');
    assertProblem(stat('[{number: 80, name: http}, {number: 81, name: http2}]', '[{address: "unix:///var/run/sock"}]'), 'spec.endpoints[0].address', 'exactly one service port (the ServiceEntry has 2)');
    assertProblem(stat(http, '[{ports: {http: 80}}]'), 'spec.endpoints[0].address', 'address is required');
    assertProblem(stat(http, '[{network: remote}]'), 'spec.endpoints[0].address', 'only reachable through network "remote"', 'warning');
    assertProblem(stat(http, '[{address: 1.1.1.1, labels: {"a b": c}}]'), 'spec.endpoints[0].labels["a b"]', 'label key');
    assertProblem(stat(http, '[{address: 1.1.1.1, weight: -1}]'), 'spec.endpoints[0].weight', '(got -1)');
    assertProblem(stat(http, '[{address: 1.1.1.1, addres: 1.1.1.2}]'), 'spec.endpoints[0].addres', 'did you mean "address"?');
  });

  it('checks DNS endpoints: IPs or host names, at most one for DNS_ROUND_ROBIN', () => {
    const dns = (res: string, endpoints: string) => se(`hosts: [a.example.com]\nresolution: ${res}\nports: [{number: 443, name: https, protocol: TLS}]\nendpoints: ${endpoints}`);
    assertProblem(dns('DNS', '[{address: "unix:///var/run/sock"}]'), 'spec.endpoints[0].address', 'not a unix socket');
    assertProblem(dns('DNS', '[{address: "bad_host"}]'), 'spec.endpoints[0].address', 'IP address or a host name (got "bad_host")');
    assertProblem(dns('DNS', '[{network: n1}]'), 'spec.endpoints[0].address', 'DNS endpoints need an address');
    assertProblem(dns('DNS', '[{address: a.example.org, ports: {http: 80}}]'), 'spec.endpoints[0].ports.http', 'not one of the ServiceEntry\'s port names (https)');
    assertProblem(dns('DNS_ROUND_ROBIN', '[{address: a.example.org}, {address: b.example.org}]'), 'spec.endpoints', 'at most one endpoint (got 2)');
  });

  it('checks that several hosts can be told apart', () => {
    assertProblem(se(`
hosts: [a.example.com, b.example.com]
ports: [{number: 3306, name: mysql, protocol: MySQL}]
resolution: DNS`), 'spec.ports[0].protocol', 'several hosts need HTTP or TLS ports');
    assertProblem(se(`
hosts: [a.example.com, b.example.com]
ports: [{number: 80, name: http, protocol: HTTP}, {number: 9000, name: tcp}]
resolution: DNS`), 'spec.ports[1].protocol', 'port 9000 is unset');
    assertProblem(se(`
hosts: [a.example.com, b.example.com]
addresses: [10.0.0.1]
ports: [{number: 443, name: https, protocol: HTTPS}]
resolution: DNS`), 'spec.ports[0]', 'should have a single host', 'warning');
    assertValid(se(`
hosts: [a.example.com, b.example.com]
ports: [{number: 9000, name: tcp, protocol: TCP}]
addresses: [10.0.0.1]
resolution: NONE`), { noWarnings: true });
  });

  it('checks exportTo, allowing "~" alone', () => {
    assertProblem(se('hosts: [a.example.com]\nexportTo: ["~", "ns1"]'), 'spec.exportTo', 'cannot be combined');
    assertProblem(se('hosts: [a.example.com]\nexportTo: ["ns1", "ns1"]'), 'spec.exportTo', 'duplicate entry "ns1"');
  });

  it('reports every error of a document, each at its own line', () => {
    const set = check(se(`
hosts: ["*"]
addresses: [bad]
ports: [{number: 80, name: http, protocol: HTTP}, {number: 80, name: http, protocol: HTTP}]`));
    const fields = set.problems.map((p) => p.field);
    for (const f of ['spec.hosts[0]', 'spec.addresses[0]', 'spec.ports[1].name', 'spec.ports[1].number']) assert.ok(fields.includes(f), fields.join(', '));
    assert.equal(set.problems.find((p) => p.field === 'spec.addresses[0]')!.line, 8);
  });
});
