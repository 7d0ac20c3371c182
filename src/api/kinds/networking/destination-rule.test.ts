import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, assertValid, check, doc } from '../../testing.ts';

const dr = (spec: string, name = 'dr') => doc('DestinationRule', 'networking.istio.io/v1', spec, name);
/** A DestinationRule whose top-level trafficPolicy is `policy` (indented YAML under trafficPolicy). */
const tp = (policy: string) => dr(`host: reviews.prod.svc.cluster.local\ntrafficPolicy:\n${policy.replace(/^\n/, '').split('\n').map((l) => `  ${l}`).join('\n')}`);
const P = 'spec.trafficPolicy';

/** Istio's samples/bookinfo/networking/destination-rule-all.yaml, optionally with ISTIO_MUTUAL (…-all-mtls.yaml). */
function bookinfo(mtls: boolean): string {
  const policy = mtls ? '  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n' : '';
  const rule = (name: string, versions: string[]) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ${name}
spec:
  host: ${name}
${policy}  subsets:
${versions.map((v) => `  - name: ${v}\n    labels:\n      version: ${v.replace(/-.*/, '')}`).join('\n')}
`;
  return [
    rule('productpage', ['v1']),
    rule('reviews', ['v1', 'v2', 'v3']),
    rule('ratings', ['v1', 'v2', 'v2-mysql', 'v2-mysql-vm']),
    rule('details', ['v1', 'v2']),
  ].join('---\n');
}

describe('DestinationRule', () => {
  it('accepts every served version', () => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
      assertValid(doc('DestinationRule', `networking.istio.io/${v}`, `
host: ratings.prod.svc.cluster.local
trafficPolicy:
  loadBalancer:
    simple: LEAST_REQUEST`), { noWarnings: true });
    }
  });

  it("accepts bookinfo's destination-rule-all.yaml and destination-rule-all-mtls.yaml", () => {
    assert.equal(assertValid(bookinfo(false), { noWarnings: true }).resources.length, 4);
    assert.equal(assertValid(bookinfo(true), { noWarnings: true }).resources.length, 4);
  });

  it('accepts the reference examples: subsets, port-level settings, workload selector, sticky cookie, circuit breaker', () => {
    assertValid(dr(`
host: ratings.prod.svc.cluster.local
trafficPolicy:
  loadBalancer: {simple: LEAST_REQUEST}
subsets:
- name: testversion
  labels: {version: v3}
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}`), { noWarnings: true });
    assertValid(dr(`
host: ratings.prod.svc.cluster.local
trafficPolicy:
  portLevelSettings:
  - port: {number: 80}
    loadBalancer: {simple: LEAST_REQUEST}
  - port: {number: 9080}
    loadBalancer: {simple: ROUND_ROBIN}`), { noWarnings: true });
    assertValid(dr(`
host: example.com
workloadSelector:
  matchLabels: {app: ratings}
exportTo: ["."]
trafficPolicy:
  loadBalancer: {simple: ROUND_ROBIN}
  portLevelSettings:
  - port: {number: 31443}
    tls: {credentialName: client-credential, mode: MUTUAL}`), { noWarnings: true });
    assertValid(dr(`
host: ratings.prod.svc.cluster.local
trafficPolicy:
  loadBalancer:
    consistentHash:
      httpCookie: {name: user, ttl: 0s, path: /, attributes: [{name: SameSite, value: Strict}, {name: Secure}]}
      ringHash: {minimumRingSize: 1024}`), { noWarnings: true });
    assertValid(dr(`
host: reviews.prod.svc.cluster.local
trafficPolicy:
  connectionPool:
    tcp: {maxConnections: 100, connectTimeout: 30ms, tcpKeepalive: {time: 7200s, interval: 75s, probes: 9}, maxConnectionDuration: 1h, idleTimeout: 0s}
    http: {http2MaxRequests: 1000, maxRequestsPerConnection: 10, http1MaxPendingRequests: 1024, maxRetries: 3, idleTimeout: 30s, h2UpgradePolicy: UPGRADE, maxConcurrentStreams: 100, http2KeepAlive: {interval: 15s, timeout: 5s}}
  outlierDetection:
    consecutive5xxErrors: 7
    consecutiveGatewayErrors: 5
    splitExternalLocalOriginErrors: true
    consecutiveLocalOriginFailures: 3
    interval: 5m
    baseEjectionTime: 15m
    maxEjectionPercent: 100
    minHealthPercent: 50`), { noWarnings: true });
  });

  it('accepts TLS origination, locality settings, warmup, maglev, tunnel, proxy protocol and retry budget', () => {
    assertValid(dr(`
host: mydbserver.prod.svc.cluster.local
trafficPolicy:
  tls: {mode: MUTUAL, clientCertificate: /etc/certs/myclientcert.pem, privateKey: /etc/certs/client_private_key.pem, caCertificates: /etc/certs/rootcacerts.pem, sni: db.example.com, subjectAltNames: [db.example.com]}`), { noWarnings: true });
    assertValid(dr(`
host: "*.foo.com"
trafficPolicy:
  tls: {mode: SIMPLE, insecureSkipVerify: true}`), { noWarnings: true });
    assertValid(tp(`
loadBalancer:
  simple: ROUND_ROBIN
  localityLbSetting:
    enabled: true
    distribute:
    - from: us-west/zone1/*
      to: {"us-west/zone1/*": 80, "us-west/zone2/*": 20}
    - from: us-west/zone2/*
      to: {"us-west/zone1/*": 20, "us-west/zone2/*": 80}
  warmup: {duration: 60s, minimumPercent: 10, aggression: 1.5}`), { noWarnings: true });
    assertValid(tp(`
loadBalancer:
  consistentHash: {useSourceIp: true, maglev: {tableSize: 65537}}
  localityLbSetting:
    failover: [{from: us-east, to: eu-west}, {from: us-west, to: us-east}]
    failoverPriority: [topology.istio.io/network]
outlierDetection: {consecutive5xxErrors: 1}`), { noWarnings: true });
    assertValid(tp(`
tunnel: {protocol: CONNECT, targetHost: 192.168.1.2, targetPort: 8080}
retryBudget: {percent: 25.5, minRetryConcurrency: 3}`), { noWarnings: true });
    assertValid(tp('proxyProtocol: {version: V2}'), { noWarnings: true });
  });

  it('requires host and checks it, subset names and their uniqueness', () => {
    assertProblem(dr('subsets: [{name: v1}]'), 'spec.host', 'is required');
    assertProblem(dr('host: "foo.*.com"'), 'spec.host', 'wildcard');
    assertProblem(dr('host: reviews\nsubsets: [{name: v1}, {name: v2}, {name: v1}]'), 'spec.subsets[2].name', 'duplicate subset name "v1": also used by subsets[0]');
    assertProblem(dr('host: reviews\nsubsets: [{name: V1}]'), 'spec.subsets[0].name', 'DNS-1123 label');
    assertProblem(dr('host: reviews\nsubsets: [{name: ""}]'), 'spec.subsets[0].name', 'must not be empty');
    assertProblem(dr('host: reviews\nsubsets: [{labels: {version: v1}}]'), 'spec.subsets[0].name', 'is required');
    assertProblem(dr('host: reviews\nsubsets: [{name: v1, labels: {"bad key!": v1}}]'), 'spec.subsets[0].labels["bad key!"]', 'label key');
  });

  it('rejects empty traffic policies and port-level settings without a port or settings', () => {
    assertProblem(dr('host: reviews\ntrafficPolicy: {}'), P, 'at least one field');
    assertProblem(dr('host: reviews\nsubsets: [{name: v1, trafficPolicy: {}}]'), 'spec.subsets[0].trafficPolicy', 'at least one field');
    assertProblem(tp('portLevelSettings: [{loadBalancer: {simple: RANDOM}}]'), `${P}.portLevelSettings[0].port`, 'need a port');
    assertProblem(tp('portLevelSettings: [{port: {number: 80}}]'), `${P}.portLevelSettings[0]`, 'at least one of loadBalancer');
    assertProblem(tp('portLevelSettings: [{port: {number: 0}, tls: {mode: ISTIO_MUTUAL}}]'), `${P}.portLevelSettings[0].port.number`, '(got 0)');
    assertProblem(tp(`
portLevelSettings:
- {port: {number: 80}, tls: {mode: ISTIO_MUTUAL}}
- {port: {number: 80}, loadBalancer: {simple: RANDOM}}`), `${P}.portLevelSettings[1].port.number`, 'already has settings in portLevelSettings[0]', 'warning');
  });

  it('checks tunnel and proxy protocol settings', () => {
    assertProblem(tp('tunnel: {targetHost: egress.example.com, targetPort: 443}\nproxyProtocol: {version: V1}'), `${P}.proxyProtocol`, 'cannot be set together');
    assertProblem(tp('tunnel: {protocol: GET, targetHost: egress.example.com, targetPort: 443}'), `${P}.tunnel.protocol`, '"CONNECT" or "POST" (got "GET")');
    assertProblem(tp('tunnel: {targetHost: "bad_host!", targetPort: 443}'), `${P}.tunnel.targetHost`, 'domain name or an IP address (got "bad_host!")');
    assertProblem(tp('tunnel: {targetHost: egress.example.com}'), `${P}.tunnel.targetPort`, 'is required');
    assertProblem(tp('tunnel: {targetHost: egress.example.com, targetPort: 0}'), `${P}.tunnel.targetPort`, '(got 0)');
    assertProblem(tp('proxyProtocol: {version: V3}'), `${P}.proxyProtocol.version`, 'must be one of V1, V2 (got "V3")');
  });

  it('checks connection pool settings', () => {
    assertProblem(tp('connectionPool: {}'), `${P}.connectionPool`, 'tcp or http');
    assertProblem(tp('connectionPool: {tcp: {maxConnections: -1}}'), `${P}.connectionPool.tcp.maxConnections`, '(got -1)');
    assertProblem(tp('connectionPool: {http: {http2MaxRequests: -5}}'), `${P}.connectionPool.http.http2MaxRequests`, '(got -5)');
    assertProblem(tp('connectionPool: {http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}}'), `${P}.connectionPool.http.useClientProtocol`, 'h2UpgradePolicy is UPGRADE');
    assertProblem(tp('connectionPool: {http: {h2UpgradePolicy: ALWAYS}}'), `${P}.connectionPool.http.h2UpgradePolicy`, 'must be one of DEFAULT, DO_NOT_UPGRADE, UPGRADE');
    assertProblem(tp('connectionPool: {tcp: {connectTimeout: 500us}}'), `${P}.connectionPool.tcp.connectTimeout`, 'at least 1ms');
    assertProblem(tp('connectionPool: {tcp: {connectTimeout: 1.5ms}}'), `${P}.connectionPool.tcp.connectTimeout`, 'millisecond precision');
    assertProblem(tp('connectionPool: {tcp: {tcpKeepalive: {time: 0s}}}'), `${P}.connectionPool.tcp.tcpKeepalive.time`, 'at least 1ms');
    assertProblem(tp('connectionPool: {http: {idleTimeout: 0s}}'), `${P}.connectionPool.http.idleTimeout`, 'at least 1ms');
    assertProblem(tp('connectionPool: {http: {http2KeepAlive: {interval: 0s}}}'), `${P}.connectionPool.http.http2KeepAlive.interval`, 'at least 1ms');
    assertProblem(tp('connectionPool: {tcp: {maxConnectionDuration: forever}}'), `${P}.connectionPool.tcp.maxConnectionDuration`, 'must be a duration');
  });

  it('checks outlier detection', () => {
    assertProblem(tp('outlierDetection: {consecutiveErrors: 5}'), `${P}.outlierDetection.consecutiveErrors`, 'deprecated', 'warning');
    assertProblem(tp('outlierDetection: {consecutiveLocalOriginFailures: 3}'), `${P}.outlierDetection.consecutiveLocalOriginFailures`, 'splitExternalLocalOriginErrors is true');
    assertProblem(tp('outlierDetection: {maxEjectionPercent: 120}'), `${P}.outlierDetection.maxEjectionPercent`, '(got 120)');
    assertProblem(tp('outlierDetection: {minHealthPercent: -1}'), `${P}.outlierDetection.minHealthPercent`, '(got -1)');
    assertProblem(tp('outlierDetection: {interval: 0s}'), `${P}.outlierDetection.interval`, 'at least 1ms');
    assertProblem(tp('outlierDetection: {consecutive5xxErrors: -1}'), `${P}.outlierDetection.consecutive5xxErrors`, '(got -1)');
  });

  it('checks load balancer choices and consistent hashing', () => {
    const LB = `${P}.loadBalancer`;
    assertProblem(tp('loadBalancer: {simple: RANDOM, consistentHash: {useSourceIp: true}}'), `${LB}.consistentHash`, 'only one of simple, consistentHash');
    assertProblem(tp('loadBalancer: {simple: LEAST_REQEST}'), `${LB}.simple`, 'did you mean "LEAST_REQUEST"?');
    assertProblem(tp('loadBalancer: {simple: LEAST_CONN}'), `${LB}.simple`, 'use LEAST_REQUEST', 'warning');
    assertProblem(tp('loadBalancer: {consistentHash: {httpHeaderName: x-user, useSourceIp: true}}'), `${LB}.consistentHash.useSourceIp`, 'found httpHeaderName and useSourceIp');
    assertProblem(tp('loadBalancer: {consistentHash: {ringHash: {}}}'), `${LB}.consistentHash`, 'no hash key', 'warning');
    assertProblem(tp('loadBalancer: {consistentHash: {useSourceIp: true, ringHash: {}, maglev: {tableSize: 65537}}}'), `${LB}.consistentHash.maglev`, 'only one of ringHash, maglev');
    assertProblem(tp('loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 1024}}'), `${LB}.consistentHash.minimumRingSize`, 'deprecated', 'warning');
    assertProblem(tp('loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 1024, ringHash: {minimumRingSize: 10}}}'), `${LB}.consistentHash.minimumRingSize`, 'cannot be set with ringHash or maglev');
    assertProblem(tp('loadBalancer: {consistentHash: {useSourceIp: true, maglev: {}}}'), `${LB}.consistentHash.maglev.tableSize`, 'must be set');
    assertProblem(tp('loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 65536}}}'), `${LB}.consistentHash.maglev.tableSize`, 'prime number (got 65536');
    assertProblem(tp('loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 5000011}}}'), `${LB}.consistentHash.maglev.tableSize`, 'less than 5000011');
    assertProblem(tp('loadBalancer: {consistentHash: {httpCookie: {ttl: 10s}}}'), `${LB}.consistentHash.httpCookie.name`, 'is required');
    assertProblem(tp('loadBalancer: {consistentHash: {httpCookie: {name: ""}}}'), `${LB}.consistentHash.httpCookie.name`, 'must not be empty');
    assertProblem(tp('loadBalancer: {consistentHash: {httpCookie: {name: u, attributes: [{value: x}]}}}'), `${LB}.consistentHash.httpCookie.attributes[0].name`, 'is required');
  });

  it('checks warmup settings', () => {
    const LB = `${P}.loadBalancer`;
    assertProblem(tp('loadBalancer: {warmup: {minimumPercent: 10}}'), `${LB}.warmup.duration`, 'is required');
    assertProblem(tp('loadBalancer: {warmup: {duration: 10s, minimumPercent: 101}}'), `${LB}.warmup.minimumPercent`, '(got 101)');
    assertProblem(tp('loadBalancer: {warmup: {duration: 10s, aggression: 0.5}}'), `${LB}.warmup.aggression`, 'at least 1 (got 0.5)');
    assertProblem(tp('loadBalancer: {simple: ROUND_ROBIN, warmupDurationSecs: 10s}'), `${LB}.warmupDurationSecs`, 'use warmup.duration', 'warning');
  });

  it('checks locality load balancing', () => {
    const L = `${P}.loadBalancer.localityLbSetting`;
    const loc = (s: string, outlier = true) => tp(`loadBalancer:\n  localityLbSetting: ${s}${outlier ? '\noutlierDetection: {consecutive5xxErrors: 5}' : ''}`);
    assertProblem(loc('{distribute: [{from: "us-west/*", to: {"us-west/*": 100}}], failover: [{from: us-east, to: eu-west}]}'), `${L}.failover`, 'cannot be set together');
    assertProblem(loc('{distribute: [{from: "us-west/*", to: {"us-west/*": 80, "us-east/*": 30}}]}'), `${L}.distribute[0].to`, 'add up to 100 (got 110)');
    assertProblem(loc('{distribute: [{from: "us-west/*", to: {"us-west/*": 0, "us-east/*": 100}}]}'), `${L}.distribute[0].to["us-west/*"]`, 'between 1 and 100 (got 0)');
    assertProblem(loc('{distribute: [{from: "us-west/*", to: {"us-west/*": 50, "us-west/zone1": 50}}]}'), `${L}.distribute[0].to["us-west/zone1"]`, 'overlaps an earlier one');
    assertProblem(loc('{distribute: [{from: "us-*/zone1", to: {"us-west": 100}}]}'), `${L}.distribute[0].from`, "one '*' wildcard, only at the end");
    assertProblem(loc('{distribute: [{from: "us-west//a", to: {"us-west": 100}}]}'), `${L}.distribute[0].from`, 'empty region, zone or subzone');
    assertProblem(loc('{distribute: [{from: us-west, to: {a: 100}}, {from: us-west/zone1, to: {a: 100}}]}'), `${L}.distribute[1].from`, 'overlaps');
    assertProblem(loc('{failover: [{from: us-east, to: us-east}]}'), `${L}.failover[0].to`, 'different region');
    assertProblem(loc('{failover: [{from: us-east/zone1, to: eu-west}]}'), `${L}.failover[0].from`, 'regions only');
    assertProblem(loc('{failover: [{from: us-east, to: "eu-*"}]}'), `${L}.failover[0].to`, "'*' wildcard");
    assertProblem(loc('{failover: [{from: us-east, to: eu-west}], failoverPriority: [topology.kubernetes.io/zone]}'), `${L}.failoverPriority[0]`, 'together with failover');
    assertProblem(loc('{failoverPriority: [topology.istio.io/network]}', false), L, 'needs outlierDetection', 'warning');
    assertProblem(dr(`
host: reviews
trafficPolicy:
  portLevelSettings:
  - port: {number: 80}
    loadBalancer: {localityLbSetting: {failover: [{from: a, to: b}]}}`), `${P}.portLevelSettings[0].loadBalancer.localityLbSetting`, 'needs outlierDetection', 'warning');
  });

  it('checks client TLS settings', () => {
    const T = `${P}.tls`;
    assertProblem(tp('tls: {mode: MUTUAL}'), `${T}.clientCertificate`, 'MUTUAL TLS needs clientCertificate');
    assertProblem(tp('tls: {mode: MUTUAL, clientCertificate: /c.pem}'), `${T}.privateKey`, 'MUTUAL TLS needs privateKey');
    assertProblem(tp('tls: {mode: SIMPLE, credentialName: cred, caCertificates: /ca.pem}'), `${T}.caCertificates`, 'together with credentialName "cred"');
    assertProblem(tp('tls: {mode: MUTUAL, credentialName: cred, caCrl: /crl.pem}'), `${T}.caCrl`, 'together with credentialName');
    assertProblem(tp('tls: {mode: SIMPLE, insecureSkipVerify: true, caCertificates: /ca.pem}'), `${T}.caCertificates`, 'insecureSkipVerify');
    assertProblem(tp('tls: {mode: SIMPLE, insecureSkipVerify: true, credentialName: cred}'), `${T}.credentialName`, 'insecureSkipVerify');
    assertProblem(tp('tls: {mode: MUTUAL, insecureSkipVerify: true, credentialName: cred, subjectAltNames: [a]}'), `${T}.subjectAltNames`, 'insecureSkipVerify');
    assertProblem(tp('tls: {mode: ISTIO_MUTUAL, clientCertificate: /c.pem}'), `${T}.clientCertificate`, 'is ignored', 'warning');
    assertProblem(tp('tls: {mode: STRICT}'), `${T}.mode`, 'must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL');
    assertValid(tp('tls: {mode: MUTUAL, credentialName: cred, insecureSkipVerify: true}'), { noWarnings: true });
  });

  it('checks exportTo and the workload selector', () => {
    assertProblem(dr('host: reviews\nexportTo: ["~"]'), 'spec.exportTo[0]', 'only ServiceEntries can');
    assertProblem(dr('host: reviews\nexportTo: [".", "."]'), 'spec.exportTo', 'duplicate entry "."');
    assertProblem(dr('host: reviews\nexportTo: ["*", "ns1"]'), 'spec.exportTo', 'cannot be combined');
    assertProblem(dr('host: reviews\nexportTo: ["Bad_NS"]'), 'spec.exportTo', 'namespace name (got "Bad_NS")');
    assertProblem(dr('host: reviews\nworkloadSelector: {matchLabels: {app: ratings}}\nexportTo: ["*"]'), 'spec.exportTo[0]', 'beyond its own namespace');
    assertProblem(dr('host: reviews\nworkloadSelector: {matchLabels: {app: ratings}}\nexportTo: [".", "ns1"]'), 'spec.exportTo', 'only be exported to its own namespace');
    assertProblem(dr('host: reviews\nworkloadSelector: {matchLabels: {app: "rat*"}}'), 'spec.workloadSelector.matchLabels.app', 'wildcards are not supported');
    assertProblem(dr('host: reviews\nworkloadSelector: {}'), 'spec.workloadSelector', 'selects every workload', 'warning');
    assertProblem(dr('host: reviews\nworkloadSelector: {matchLabel: {app: ratings}}'), 'spec.workloadSelector.matchLabel', 'did you mean "matchLabels"?');
  });

  it('suggests the field a typo meant and reports every error of a document', () => {
    assertProblem(dr('host: reviews\ntraficPolicy: {tls: {mode: ISTIO_MUTUAL}}'), 'spec.traficPolicy', 'did you mean "trafficPolicy"?');
    const set = check(tp(`
connectionPool: {}
outlierDetection: {maxEjectionPercent: 200}
tls: {mode: MUTUAL}`));
    assert.ok(set.problems.filter((p) => p.severity === 'error').length >= 4, set.problems.map((p) => p.field).join(', '));
  });
});
