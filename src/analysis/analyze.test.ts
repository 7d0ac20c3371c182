/** Each analyzer on small inputs: the finding it must report (code, resource, line) and the clean case. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../api/index.ts';
import { analyze, formatDiagnostic } from './index.ts';

function run(yaml: string): string[] {
  return analyze(parseConfig(yaml, 'in.yaml')).map(formatDiagnostic);
}

function codes(yaml: string): string[] {
  return analyze(parseConfig(yaml, 'in.yaml')).map((d) => d.type.code);
}

const SVC = (name: string, ns = 'default', ports = '[{name: http, port: 9080}]') => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {app: ${name}}
  ports: ${ports}
`;

const DEPLOY = (name: string, version: string, ns = 'default') => `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}-${version}, namespace: ${ns}}
spec:
  template:
    metadata: {labels: {app: ${name}, version: ${version}}}
`;

const DR = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

const VS = (dest: string, extra = '') => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]${extra}
  http:
  - route:
    - destination: ${dest}
`;

describe('destination-host (IST0101, IST0112)', () => {
  it('is clean when host, subset and port exist', () => {
    assert.deepEqual(run(SVC('reviews') + DR + VS('{host: reviews, subset: v1, port: {number: 9080}}')), []);
  });
  it('reports a missing host, subset and port at the field line', () => {
    assert.deepEqual(run(VS('{host: reviewz}')), ['Error [IST0101] (VirtualService default/reviews in.yaml:9) Referenced host not found: "reviewz"']);
    const out = run(SVC('reviews') + DR + VS('{host: reviews, subset: v4}'));
    assert.deepEqual(out, ['Error [IST0101] (VirtualService default/reviews in.yaml:25) Referenced host+subset in destinationrule not found: "reviews+v4"']);
    assert.match(run(SVC('reviews') + VS('{host: reviews, port: {number: 80}}'))[0]!, /IST0101.*"reviews:80" \(the service exposes 9080\)/);
  });
  it('resolves hosts across namespaces and honours exportTo', () => {
    assert.deepEqual(run(SVC('reviews', 'prod') + VS('{host: reviews.prod.svc.cluster.local}')), []);
    const se = `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: other}
spec:
  hosts: ["*.example.com"]
  exportTo: ["."]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: NONE
`;
    assert.deepEqual(codes(se + VS('{host: api.example.com}')), ['IST0101']);
    assert.deepEqual(codes(se.replace('exportTo: ["."]', 'exportTo: ["*"]') + VS('{host: api.example.com}')), []);
  });
  it('requires a port for gateway routes to multi-port services', () => {
    const gw = `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
`;
    const svc = SVC('reviews', 'default', '[{name: http, port: 9080}, {name: grpc, port: 9090}]');
    assert.deepEqual(codes(svc + gw + VS('{host: reviews}', '\n  gateways: [gw]')), ['IST0112']);
    assert.deepEqual(codes(svc + VS('{host: reviews}')), []);
  });
});

describe('gateway-refs (IST0101, IST0132, IST0149)', () => {
  const GW = `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["bookinfo.example.com"]}]
`;
  it('reports a missing gateway', () => {
    assert.match(run(SVC('reviews') + VS('{host: reviews}', '\n  gateways: [nope]'))[0]!, /Error \[IST0101\] .* Referenced gateway not found: "nope"/);
  });
  it('reports VirtualService hosts the gateway does not serve', () => {
    const out = run(SVC('reviews') + GW + VS('{host: reviews}', '\n  gateways: [gw]'));
    assert.match(out[0]!, /Warning \[IST0132\] .* host \[reviews\] defined in VirtualService default\/reviews not found in Gateway gw/);
    const ok = SVC('reviews') + GW + VS('{host: reviews}', '\n  gateways: [gw]').replace('hosts: [reviews]', 'hosts: [bookinfo.example.com]');
    assert.deepEqual(run(ok), []);
  });
  it('reports JWT claim routing without RequestAuthentication', () => {
    const vs = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: claims}
spec:
  hosts: [bookinfo.example.com]
  gateways: [gw]
  http:
  - match: [{headers: {"@request.auth.claims.groups": {exact: admin}}}]
    route: [{destination: {host: reviews}}]
`;
    assert.deepEqual(codes(SVC('reviews') + GW + vs), ['IST0149']);
    const ra = `---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules: [{issuer: "https://issuer.example.com", jwksUri: "https://issuer.example.com/jwks"}]
`;
    assert.deepEqual(codes(SVC('reviews') + GW + vs + ra), []);
  });
});

describe('mesh-host-conflicts (IST0109)', () => {
  it('reports two mesh VirtualServices for one host, unless their exports do not meet', () => {
    const two = SVC('reviews') + VS('{host: reviews}') + VS('{host: reviews}').replace('name: reviews}', 'name: reviews-2}');
    assert.deepEqual(codes(two), ['IST0109', 'IST0109']);
    const apart = SVC('reviews') + VS('{host: reviews}', '\n  exportTo: [a]') + VS('{host: reviews}', '\n  exportTo: [b]').replace('name: reviews}', 'name: reviews-2}');
    assert.deepEqual(codes(apart), []);
  });
});

describe('route-reachability (IST0130, IST0131)', () => {
  const vsWith = (routes: string) => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r}
spec:
  hosts: [reviews]
${routes}`;
  it('reports rules after a catch-all and matches covered by earlier ones', () => {
    const out = run(SVC('reviews') + vsWith(`  http:
  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /a/b}}, {uri: {prefix: /b}}]
    route: [{destination: {host: reviews}}]
  - route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /c}}]
    route: [{destination: {host: reviews}}]
`));
    assert.equal(out.length, 2, out.join('\n'));
    assert.match(out[0]!, /Info \[IST0131\] .*in\.yaml:17\) http\[1\]\.match\[0\] is never used: http\[0\]\.match\[0\] already takes every request/);
    assert.match(out[1]!, /Warning \[IST0130\] .*in\.yaml:20\) http\[3\] is never used: http\[2\] has no match conditions/);
  });
  it('reports a rule whose every match is taken, and duplicate TCP matches', () => {
    assert.deepEqual(codes(SVC('reviews') + vsWith(`  http:
  - match: [{uri: {prefix: /x}, name: first}]
    route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /x}, name: second}]
    route: [{destination: {host: reviews}}]
`)), ['IST0130']);
    assert.deepEqual(codes(SVC('reviews') + vsWith(`  tcp:
  - match: [{port: 9080}]
    route: [{destination: {host: reviews}}]
  - match: [{port: 9080}]
    route: [{destination: {host: reviews}}]
`)), ['IST0130']);
  });
  it('stays quiet when a later match is narrower in another dimension', () => {
    assert.deepEqual(codes(SVC('reviews') + vsWith(`  http:
  - match: [{uri: {prefix: /x}, headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /x/y}}]
    route: [{destination: {host: reviews}}]
  - route: [{destination: {host: reviews}}]
`)), []);
  });
});

describe('mtls-conflict (IST0113)', () => {
  const PA = (mode: string, ns = 'istio-system') => `---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: ${ns}}
spec: {mtls: {mode: ${mode}}}
`;
  const DRTLS = (mode: string) => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy: {tls: {mode: ${mode}}}
`;
  it('DISABLE towards STRICT workloads, ISTIO_MUTUAL towards DISABLE', () => {
    const out = run(SVC('reviews') + PA('STRICT') + DRTLS('DISABLE'));
    assert.equal(out.length, 1);
    assert.match(out[0]!, /Error \[IST0113\] \(DestinationRule default\/reviews in\.yaml:\d+\) .*mTLS must be false but the Policy object "istio-system\/default" specifies STRICT/);
    assert.deepEqual(codes(SVC('reviews') + PA('DISABLE', 'default') + DRTLS('ISTIO_MUTUAL')), ['IST0113']);
  });
  it('namespace policy overrides mesh policy; agreeing modes are clean', () => {
    assert.deepEqual(codes(SVC('reviews') + PA('STRICT') + PA('PERMISSIVE', 'default') + DRTLS('DISABLE')), []);
    assert.deepEqual(codes(SVC('reviews') + PA('STRICT') + DRTLS('ISTIO_MUTUAL')), []);
  });
});

describe('destination-rule-tls (IST0128, IST0129)', () => {
  it('warns when TLS origination does not verify the server', () => {
    const dr = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ext}
spec:
  host: api.example.com
  trafficPolicy:
    tls: {mode: SIMPLE}
    portLevelSettings:
    - port: {number: 8443}
      tls: {mode: SIMPLE}
    - port: {number: 9443}
      tls: {mode: SIMPLE, caCertificates: /etc/ca.pem}
`;
    assert.deepEqual(codes(dr), ['IST0128', 'IST0129']);
  });
});

describe('workload-selectors (IST0127, IST0110, IST0111, IST0160)', () => {
  it('reports subsets selecting no workload when workloads are known', () => {
    const known = SVC('reviews') + DEPLOY('reviews', 'v1') + DR;
    const out = run(known);
    assert.equal(out.length, 1, out.join('\n'));
    assert.match(out[0]!, /Info \[IST0127\] .* subset "v2" of reviews\.default\.svc\.cluster\.local with the following labels: app=reviews,version=v2 \(no route uses it yet\)/);
    const routed = run(known + VS('{host: reviews, subset: v2}'));
    assert.match(routed[0]!, /Warning \[IST0127\] .* subset "v2" .*no healthy upstream/);
    assert.deepEqual(codes(SVC('reviews') + DR), [], 'no workloads in the input: nothing to say');
  });
  it('reports two Sidecars without selector in a namespace', () => {
    const sc = (name: string) => `---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ${name}}
spec:
  egress: [{hosts: ["./*"]}]
`;
    assert.deepEqual(codes(sc('a') + sc('b')), ['IST0111', 'IST0111']);
  });
  it('reports policies whose selector matches nothing', () => {
    const ap = `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny}
spec:
  selector: {matchLabels: {app: ratingz}}
  action: DENY
  rules: [{}]
`;
    assert.deepEqual(codes(DEPLOY('ratings', 'v1') + ap), ['IST0127']);
  });
});

describe('service-ports (IST0118), gateway-conflicts (IST0145), service-entry-addresses (IST0134)', () => {
  it('notes Service ports without a protocol', () => {
    assert.deepEqual(codes(SVC('db', 'default', '[{name: mysqlport, port: 3306}]')), ['IST0118']);
    assert.deepEqual(codes(SVC('db', 'default', '[{name: db, port: 3306, appProtocol: mysql}]')), []);
  });
  it('reports Gateways claiming the same host and port', () => {
    const gw = (name: string, host: string) => `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["${host}"]}]
`;
    assert.deepEqual(codes(gw('a', '*.example.com') + gw('b', 'api.example.com')), ['IST0145', 'IST0145']);
    assert.deepEqual(codes(gw('a', 'a.example.com') + gw('b', 'b.example.com')), []);
  });
  it('warns about TCP ServiceEntries without addresses', () => {
    const se = (ports: string) => `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db}
spec:
  hosts: [db.example.com]
  ports: ${ports}
  resolution: DNS
`;
    assert.deepEqual(codes(se('[{number: 5432, name: tcp, protocol: TCP}]')), ['IST0134']);
    assert.deepEqual(codes(se('[{number: 443, name: tls, protocol: TLS}]')), []);
  });
});

describe('schema findings', () => {
  it('become IST0106 errors and IST0133 warnings', () => {
    assert.deepEqual(codes(VS('{host: reviews}').replace('hosts:', 'hostz:')), ['IST0106']);
  });
});
