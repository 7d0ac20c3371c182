import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, assertValid, check, doc } from '../../testing.ts';

const vs = (spec: string, name = 'vs') => doc('VirtualService', 'networking.istio.io/v1', spec, name);

/** samples/bookinfo/networking/virtual-service-reviews-test-v2.yaml */
const REVIEWS_JASON = `
hosts:
- reviews
http:
- match:
  - headers:
      end-user:
        exact: jason
  route:
  - destination:
      host: reviews
      subset: v2
- route:
  - destination:
      host: reviews
      subset: v1`;

describe('VirtualService', () => {
  it('accepts bookinfo reviews (jason header match) in every served version', () => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
      assertValid(doc('VirtualService', `networking.istio.io/${v}`, REVIEWS_JASON, 'reviews'), { noWarnings: true });
    }
  });

  it('accepts bookinfo ratings delay and abort faults, reviews 50/50 and the bookinfo gateway routes', () => {
    assertValid(vs(`
hosts: [ratings]
http:
- match:
  - headers:
      end-user: {exact: jason}
  fault:
    delay:
      percentage: {value: 100.0}
      fixedDelay: 7s
  route:
  - destination: {host: ratings, subset: v1}
- route:
  - destination: {host: ratings, subset: v1}`), { noWarnings: true });
    assertValid(vs(`
hosts: [ratings]
http:
- match:
  - headers:
      end-user: {exact: jason}
  fault:
    abort:
      percentage: {value: 100.0}
      httpStatus: 500
  route:
  - destination: {host: ratings, subset: v1}
- route:
  - destination: {host: ratings, subset: v1}`), { noWarnings: true });
    assertValid(vs(`
hosts: [reviews]
http:
- route:
  - destination: {host: reviews, subset: v1}
    weight: 50
  - destination: {host: reviews, subset: v3}
    weight: 50`), { noWarnings: true });
    assertValid(vs(`
hosts: ["*"]
gateways: [bookinfo-gateway]
http:
- match:
  - uri: {exact: /productpage}
  - uri: {prefix: /static}
  - uri: {exact: /login}
  - uri: {exact: /logout}
  - uri: {prefix: /api/v1/products}
  route:
  - destination:
      host: productpage
      port: {number: 9080}`), { noWarnings: true });
  });

  it('accepts TLS (SNI) and TCP routes', () => {
    assertValid(vs(`
hosts: ["*.example.com", "10.0.0.5"]
gateways: [mesh, istio-system/egress]
tls:
- match:
  - sniHosts: [api.example.com]
    port: 443
    destinationSubnets: [10.0.0.0/8, 192.168.1.1]
    sourceLabels: {app: web}
    gateways: [mesh]
    sourceNamespace: web
  route:
  - destination: {host: api.example.com, port: {number: 443}}
tcp:
- match:
  - port: 27017
  route:
  - destination: {host: mongo.backup.svc.cluster.local, port: {number: 5555}}
    weight: 80
  - destination: {host: mongo.primary.svc.cluster.local, port: {number: 5555}}
    weight: 20`), { noWarnings: true });
  });

  it('rejects a weight above 100 (weights are percentages) and warns when they do not add up to 100', () => {
    const problems = assertProblem(vs(`
hosts: [reviews]
http:
- route:
  - destination: {host: reviews, subset: v1}
    weight: 50
  - destination: {host: reviews, subset: v3}
    weight: 150`), 'spec.http[0].route[1].weight', 'must be between 0 and 100 (got 150)');
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 13);
    assertProblem(vs(`
hosts: [reviews]
http:
- route:
  - destination: {host: reviews, subset: v1}
    weight: 50
  - destination: {host: reviews, subset: v3}
    weight: 30`), 'spec.http[0].route', 'add up to 80, not 100', 'warning');
  });

  it('rejects negative weights and weights that add up to 0', () => {
    assertProblem(vs(`
hosts: [reviews]
http:
- route:
  - destination: {host: reviews}
    weight: -5`), 'spec.http[0].route[0].weight', 'must not be negative (got -5)');
    assertProblem(vs(`
hosts: [reviews]
http:
- route:
  - destination: {host: reviews, subset: v1}
  - destination: {host: reviews, subset: v2}
    weight: 0`), 'spec.http[0].route', 'add up to 0');
    assertValid(vs(`
hosts: [reviews]
http:
- route:
  - destination: {host: reviews}
    weight: 0`), { noWarnings: true });
  });

  it('checks hosts: format, "*" only on gateways, duplicates', () => {
    assertProblem(vs(`
hosts: ["foo*.example.com"]
http:
- route: [{destination: {host: foo}}]`), 'spec.hosts[0]', 'wildcard');
    assertProblem(vs(`
hosts: ["*"]
http:
- route: [{destination: {host: foo}}]`), 'spec.hosts[0]', 'only allowed on VirtualServices bound to gateways');
    assertProblem(vs(`
hosts: ["*"]
gateways: [gw, mesh]
http:
- route: [{destination: {host: foo}}]`), 'spec.hosts[0]', 'only allowed');
    assertProblem(vs(`
hosts: ["*.example.com", "api.example.com"]
http:
- route: [{destination: {host: foo}}]`), 'spec.hosts[1]', 'overlaps hosts[0] "*.example.com"');
  });

  it('requires at least one of http, tcp and tls', () => {
    assertProblem(vs('hosts: [reviews]'), 'spec', 'at least one http, tcp or tls route');
  });

  it('treats a VirtualService without hosts as a delegate, with its restrictions', () => {
    assertValid(vs(`
http:
- match: [{uri: {prefix: /reviews}}]
  route: [{destination: {host: reviews}}]`), { noWarnings: true });
    assertProblem(vs(`
gateways: [gw]
http:
- route: [{destination: {host: reviews}}]`), 'spec.gateways', 'delegate');
    assertProblem(vs(`
tcp:
- route: [{destination: {host: reviews}}]`), 'spec.tcp', 'only hold http routes');
    assertProblem(vs(`
tls:
- match: [{sniHosts: [a.example.com]}]
  route: [{destination: {host: reviews}}]`), 'spec.tls', 'only hold http routes');
    assertProblem(vs(`
http:
- delegate: {name: other}`), 'spec.http[0].delegate', 'cannot delegate again');
  });

  it('accepts a root VirtualService that delegates, and checks the delegate reference', () => {
    assertValid(vs(`
hosts: [bookinfo.example.com]
gateways: [bookinfo-gateway]
http:
- match: [{uri: {prefix: /productpage}}]
  delegate: {name: productpage, namespace: nsa}`), { noWarnings: true });
    assertProblem(vs(`
hosts: [bookinfo.example.com]
http:
- delegate: {name: productpage}
  route: [{destination: {host: productpage}}]`), 'spec.http[0].route', 'delegate');
    assertProblem(vs(`
hosts: [bookinfo.example.com]
http:
- delegate: {name: Product_Page, namespace: nsa}`), 'spec.http[0].delegate.name', 'DNS-1123 subdomain');
    assertProblem(vs(`
hosts: [bookinfo.example.com]
http:
- delegate: {name: productpage}
  directResponse: {status: 200}`), 'spec.http[0].directResponse', 'delegate', 'warning');
  });

  it('checks gateways references', () => {
    assertProblem(vs(`
hosts: [a.example.com]
gateways: ["istio-system/Bad_Gw"]
http:
- route: [{destination: {host: a}}]`), 'spec.gateways[0]', 'gateway name "Bad_Gw"');
    assertProblem(vs(`
hosts: [a.example.com]
gateways: ["/gw"]
http:
- route: [{destination: {host: a}}]`), 'spec.gateways[0]', 'must both be set');
    assertProblem(vs(`
hosts: [a.example.com]
gateways: [my-gw.istio-system]
http:
- route: [{destination: {host: a}}]`), 'spec.gateways[0]', 'prefer "istio-system/my-gw"', 'warning');
  });

  it('allows JWT claim routing only on gateways', () => {
    const route = `
http:
- match:
  - headers:
      "@request.auth.claims.groups": {exact: admin}
  route: [{destination: {host: a}}]
- route: [{destination: {host: a}}]`;
    assertValid(vs(`hosts: [a.example.com]\ngateways: [gw]${route}`), { noWarnings: true });
    assertProblem(vs(`hosts: [a.example.com]${route}`), 'spec.http[0].match[0].headers["@request.auth.claims.groups"]', 'only works on gateways');
  });

  it('checks TLS routes: SNI hosts within the VirtualService hosts, matches and destinations required', () => {
    assertProblem(vs(`
hosts: ["*.example.com"]
tls:
- match: [{sniHosts: [api.other.com]}]
  route: [{destination: {host: api.example.com}}]`), 'spec.tls[0].match[0].sniHosts[0]', 'not within any of the VirtualService hosts');
    assertProblem(vs(`
hosts: ["*.example.com"]
tls:
- match: [{sniHosts: [10.0.0.1]}]
  route: [{destination: {host: api.example.com}}]`), 'spec.tls[0].match[0].sniHosts[0]', 'IP address', 'warning');
    assertProblem(vs(`
hosts: ["*.example.com"]
tls:
- match: [{port: 443}]
  route: [{destination: {host: api.example.com}}]`), 'spec.tls[0].match[0].sniHosts', 'is required');
    assertProblem(vs(`
hosts: ["*.example.com"]
tls:
- match: [{sniHosts: []}]
  route: [{destination: {host: api.example.com}}]`), 'spec.tls[0].match[0].sniHosts', 'at least one SNI host');
    assertProblem(vs(`
hosts: ["*.example.com"]
tls:
- match: []
  route: [{destination: {host: api.example.com}}]`), 'spec.tls[0].match', 'at least one match');
    assertProblem(vs(`
hosts: ["*.example.com"]
tls:
- match: [{sniHosts: [a.example.com]}]`), 'spec.tls[0].route', 'at least one destination');
    assertProblem(vs(`
hosts: ["*.example.com"]
tls:
- match: [{sniHosts: [a.example.com], destinationSubnets: [10.0.0.0/33]}]
  route: [{destination: {host: a.example.com}}]`), 'spec.tls[0].match[0].destinationSubnets[0]', 'CIDR');
  });

  it('accepts generated outbound_ SNI names on gateway-bound VirtualServices only', () => {
    const spec = (gws: string) => `
hosts: ["outbound_.80_._.reviews.default.svc.cluster.local"]
gateways: [${gws}]
tls:
- match: [{sniHosts: ["outbound_.80_._.reviews.default.svc.cluster.local"]}]
  route: [{destination: {host: reviews.default.svc.cluster.local}}]`;
    assertValid(vs(spec('cross-network-gw')), { noWarnings: true });
    assertProblem(vs(spec('mesh')), 'spec.hosts[0]', 'host must be a domain name');
  });

  it('checks TCP routes', () => {
    assertProblem(vs(`
hosts: [mongo]
tcp:
- match: [{port: 27017}]`), 'spec.tcp[0].route', 'at least one destination');
    assertProblem(vs(`
hosts: [mongo]
tcp:
- match: [{port: 70000}]
  route: [{destination: {host: mongo}}]`), 'spec.tcp[0].match[0].port', '(got 70000)');
    assertProblem(vs(`
hosts: [mongo]
tcp:
- match: [{sourceSubnet: 10.0.0.0/8}]
  route: [{destination: {host: mongo}}]`), 'spec.tcp[0].match[0].sourceSubnet', 'deprecated', 'warning');
    assertProblem(vs(`
hosts: [mongo]
tcp:
- match: [{sourceNamespace: Bad_NS}]
  route: [{destination: {host: mongo}}]`), 'spec.tcp[0].match[0].sourceNamespace', 'DNS-1123 label');
  });

  it('checks destinations: host, subset and port', () => {
    assertProblem(vs(`
hosts: [a]
http:
- route: [{destination: {host: "*"}}]`), 'spec.http[0].route[0].destination.host', 'cannot be "*"');
    assertValid(vs(`
hosts: ["*.wikipedia.org"]
http:
- route: [{destination: {host: "*.wikipedia.org", port: {number: 443}}}]`), { noWarnings: true });
    assertProblem(vs(`
hosts: [a]
http:
- route: [{destination: {host: a, subset: V1}}]`), 'spec.http[0].route[0].destination.subset', 'DNS-1123 label');
    assertProblem(vs(`
hosts: [a]
http:
- route: [{destination: {host: a, port: {number: 0}}}]`), 'spec.http[0].route[0].destination.port.number', '(got 0)');
    assertProblem(vs(`
hosts: [a]
http:
- route: [{destination: {subset: v1}}]`), 'spec.http[0].route[0].destination.host', 'is required');
    assertProblem(vs(`
hosts: [a]
http:
- route: [{weight: 100}]`), 'spec.http[0].route[0].destination', 'is required');
  });

  it('checks exportTo and suggests the field a typo meant', () => {
    assertProblem(vs(`
hosts: [a]
exportTo: ["*", "."]
http:
- route: [{destination: {host: a}}]`), 'spec.exportTo', 'cannot be combined');
    assertProblem(vs(`
hosts: [a]
http:
- route: [{destination: {host: a, subsett: v1}}]`), 'spec.http[0].route[0].destination.subsett', 'did you mean "subset"?');
  });

  it('reports every problem of a document', () => {
    const set = check(vs(`
hosts: ["*"]
http:
- route: [{destination: {host: "*"}, weight: -1}]
  timeout: 0s
  retries: {attempts: -1}`));
    const fields = set.problems.filter((p) => p.severity === 'error').map((p) => p.field);
    for (const f of ['spec.hosts[0]', 'spec.http[0].route[0].destination.host', 'spec.http[0].route[0].weight', 'spec.http[0].timeout', 'spec.http[0].retries.attempts']) {
      assert.ok(fields.includes(f), `missing ${f} in ${fields.join(', ')}`);
    }
  });
});
