import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, assertValid, check, doc } from '../../testing.ts';

const sc = (spec: string) => doc('Sidecar', 'networking.istio.io/v1', spec, 'sidecar', 'prod-us1');
/** A Sidecar with one ingress listener on an HTTP port, plus `extra` listener fields. */
const ingress = (extra: string, port = '{number: 9080, protocol: HTTP, name: http}') => sc(`
ingress:
- port: ${port}
${extra.replace(/^\n/, '').split('\n').map((l) => `  ${l}`).join('\n')}`);

describe('Sidecar', () => {
  it('accepts the namespace-wide default Sidecar in every served version', () => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
      assertValid(doc('Sidecar', `networking.istio.io/${v}`, `
egress:
- hosts:
  - "./*"
  - "istio-system/*"`, 'default', 'istio-config'), { noWarnings: true });
    }
  });

  it('accepts the docs examples: unix socket endpoints, bound egress ports, REGISTRY_ONLY', () => {
    assertValid(sc(`
workloadSelector:
  labels:
    app: productpage
ingress:
- port:
    number: 9080
    protocol: HTTP
    name: somename
  defaultEndpoint: unix:///var/run/someuds.sock
egress:
- port:
    number: 9080
    protocol: HTTP
    name: egresshttp
  hosts:
  - "prod-us1/*"
- hosts:
  - "istio-system/*"`), { noWarnings: true });
    assertValid(sc(`
workloadSelector:
  labels:
    app: ratings
ingress:
- port: {number: 9080, protocol: HTTP, name: somename}
  defaultEndpoint: 127.0.0.1:8080
  captureMode: NONE
egress:
- port: {number: 3306, protocol: MYSQL, name: egressmysql}
  captureMode: NONE
  bind: 127.0.0.1
  hosts: ["*/mysql.foo.com"]
- port: {number: 0, protocol: HTTP, name: uds}
  bind: unix:///var/run/egress.sock
  captureMode: DEFAULT
  hosts: ["*/*.example.com"]
- captureMode: IPTABLES
  hosts: ["~/*"]
outboundTrafficPolicy:
  mode: REGISTRY_ONLY`), { noWarnings: true });
  });

  it('accepts ingress TLS, connection pools and an egress proxy', () => {
    assertValid(sc(`
workloadSelector: {labels: {app: productpage}}
inboundConnectionPool:
  http: {http1MaxPendingRequests: 1024, http2MaxRequests: 1024, maxRequestsPerConnection: 1024, maxRetries: 100}
ingress:
- port: {number: 9080, protocol: HTTPS, name: somename}
  defaultEndpoint: "[::1]:8080"
  tls:
    mode: SIMPLE
    privateKey: /etc/istio/tls-certs/tls.key
    serverCertificate: /etc/istio/tls-certs/tls.crt
- port: {number: 80, protocol: HTTP, name: web}
  defaultEndpoint: ":8081"
  connectionPool:
    http: {http1MaxPendingRequests: 1024, idleTimeout: 30s}
    tcp: {maxConnections: 100}
outboundTrafficPolicy:
  mode: ALLOW_ANY
  egressProxy:
    host: foo.bar
    subset: shiny
    port: {number: 443}`), { noWarnings: true });
  });

  it('rejects an empty configuration, and a Sidecar without spec', () => {
    assertProblem(sc('workloadSelector: {labels: {app: a}}'), 'spec', 'at least one of ingress, egress');
    assertProblem(sc('egress: []'), 'spec', 'at least one of');
    assertProblem(doc('Sidecar', 'networking.istio.io/v1', ''), 'spec', 'is required');
  });

  it('checks the workload selector', () => {
    assertProblem(sc('workloadSelector: {labels: {app: "*"}}\negress: [{hosts: ["./*"]}]'), 'spec.workloadSelector.labels.app', 'wildcards are not supported');
    assertProblem(sc('workloadSelector: {}\negress: [{hosts: ["./*"]}]'), 'spec.workloadSelector', 'selects every workload', 'warning');
  });

  it('checks ingress ports, binds and names', () => {
    assertProblem(ingress('defaultEndpoint: 127.0.0.1:8080', '{number: 0, protocol: HTTP, name: http}'), 'spec.ingress[0].port.number', 'between 1 and 65535 (got 0)');
    assertProblem(ingress('bind: 1.2.3', '{number: 70000, protocol: HTTP}'), 'spec.ingress[0].port.number', '(got 70000)');
    assertProblem(ingress('bind: 1.2.3'), 'spec.ingress[0].bind', 'must be an IP address (got "1.2.3")');
    assertProblem(ingress('bind: 0.0.0.0', '{number: 80, protocol: HTTPX, name: http}'), 'spec.ingress[0].port.protocol', 'unsupported protocol "HTTPX"');
    assertProblem(ingress('bind: 0.0.0.0', '{number: 80, protocol: HTTP, name: Http_1}'), 'spec.ingress[0].port.name', 'DNS-1123 label');
    assertProblem(ingress('bind: 0.0.0.0', '{number: 80, protocol: HTTP, targetPort: 8080}'), 'spec.ingress[0].port.targetPort', 'no effect on Sidecars');
    assertProblem(sc('ingress:\n- defaultEndpoint: 127.0.0.1:80'), 'spec.ingress[0].port', 'is required');
    assertProblem(sc(`
ingress:
- port: {number: 80, protocol: HTTP}
- port: {number: 80, protocol: TCP}`), 'spec.ingress[1].port.number', 'port 80 is already used by ingress[0]');
  });

  it('checks defaultEndpoint', () => {
    assertProblem(ingress('defaultEndpoint: 1.1.1.1:90'), 'spec.ingress[0].defaultEndpoint', 'host must be 127.0.0.1, 0.0.0.0, [::1], [::] or empty');
    assertProblem(ingress('defaultEndpoint: "127.0.0.1"'), 'spec.ingress[0].defaultEndpoint', 'must be host:port');
    assertProblem(ingress('defaultEndpoint: "127.0.0.1:http"'), 'spec.ingress[0].defaultEndpoint', 'port must be a number');
    assertProblem(ingress('defaultEndpoint: "0.0.0.0:0"'), 'spec.ingress[0].defaultEndpoint', 'between 1 and 65535 (got "0.0.0.0:0")');
    assertProblem(ingress('defaultEndpoint: unix://relative.sock'), 'spec.ingress[0].defaultEndpoint', 'absolute path');
    assertValid(ingress('defaultEndpoint: "[::]:9000"'), { noWarnings: true });
  });

  it('restricts TLS on ingress listeners', () => {
    const https = '{number: 443, protocol: HTTPS, name: https}';
    const simple = 'mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem';
    assertProblem(ingress(`tls: {${simple}, subjectAltNames: [a]}`, https), 'spec.ingress[0].tls.subjectAltNames', 'not supported in Sidecar ingress TLS');
    assertProblem(ingress(`tls: {${simple}, httpsRedirect: true}`, https), 'spec.ingress[0].tls.httpsRedirect', 'not supported');
    assertProblem(ingress('tls: {mode: SIMPLE, credentialName: cert}', https), 'spec.ingress[0].tls.credentialName', 'not supported');
    assertProblem(ingress('tls: {mode: SIMPLE, credentialNames: [a]}', https), 'spec.ingress[0].tls.credentialNames', 'not supported');
    assertProblem(ingress('tls: {mode: ISTIO_MUTUAL}', https), 'spec.ingress[0].tls.mode', 'ISTIO_MUTUAL cannot be used');
    assertProblem(ingress('tls: {mode: AUTO_PASSTHROUGH}', https), 'spec.ingress[0].tls.mode', 'AUTO_PASSTHROUGH cannot be used');
    assertProblem(ingress(`tls: {${simple}}`), 'spec.ingress[0].tls', 'need an HTTPS or TLS port (port protocol is "HTTP")');
    assertProblem(ingress('tls: {mode: MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem}', https), 'spec.ingress[0].tls.caCertificates', 'needs caCertificates');
  });

  it('checks connection pools', () => {
    assertProblem(ingress('connectionPool:\n  http: {maxRetries: 3}', '{number: 3306, protocol: TCP, name: db}'), 'spec.ingress[0].connectionPool.http', 'only the TCP settings apply', 'warning');
    assertProblem(ingress('connectionPool: {}'), 'spec.ingress[0].connectionPool', 'tcp or http');
    assertProblem(sc('inboundConnectionPool:\n  tcp: {maxConnections: -1}'), 'spec.inboundConnectionPool.tcp.maxConnections', '(got -1)');
  });

  it('checks egress ports, binds and unix sockets', () => {
    assertProblem(sc('egress:\n- port: {number: 0, protocol: HTTP}\n  hosts: ["./*"]'), 'spec.egress[0].bind', 'port 0 is for unix socket listeners');
    assertProblem(sc('egress:\n- port: {number: 0}\n  bind: unix://rel\n  hosts: ["./*"]'), 'spec.egress[0].bind', 'absolute path');
    assertProblem(sc('egress:\n- port: {number: 0}\n  bind: unix:///a.sock\n  captureMode: IPTABLES\n  hosts: ["./*"]'), 'spec.egress[0].captureMode', 'cannot use captureMode IPTABLES');
    assertProblem(sc('egress:\n- port: {number: 80, protocol: HTTP}\n  bind: unix:///a.sock\n  hosts: ["./*"]'), 'spec.egress[0].bind', 'must be an IP address');
    assertProblem(sc('egress:\n- port: {number: 80, protocol: FOO}\n  hosts: ["./*"]'), 'spec.egress[0].port.protocol', 'unsupported protocol "FOO"');
    assertProblem(sc('egress:\n- port: {number: 80, targetPort: 81}\n  hosts: ["./*"]'), 'spec.egress[0].port.targetPort', 'no effect');
    assertProblem(sc(`
egress:
- port: {number: 0}
  bind: unix:///a.sock
  hosts: ["./*"]
- port: {number: 0}
  bind: unix:///a.sock
  hosts: ["./*"]`), 'spec.egress[1].bind', 'unix socket "unix:///a.sock" is already used by egress[0]');
    assertProblem(sc(`
egress:
- port: {number: 8080}
  hosts: ["./*"]
- port: {number: 8080}
  bind: 127.0.0.2
  hosts: ["./*"]`), 'spec.egress[1].port.number', 'port 8080 is already used by egress[0]');
  });

  it('requires the catch-all egress listener to be last', () => {
    assertProblem(sc(`
egress:
- hosts: ["./*"]
- port: {number: 80, protocol: HTTP}
  hosts: ["./*"]`), 'spec.egress[0]', 'must be the last');
    assertProblem(sc('egress:\n- hosts: ["./*"]\n- hosts: ["istio-system/*"]'), 'spec.egress[0]', 'must be the last');
  });

  it('checks egress hosts and warns about duplicates', () => {
    assertProblem(sc('egress:\n- port: {number: 80}'), 'spec.egress[0].hosts', 'is required');
    assertProblem(sc('egress:\n- hosts: []'), 'spec.egress[0].hosts', 'at least one host');
    assertProblem(sc('egress:\n- hosts: ["foo.com"]'), 'spec.egress[0].hosts[0]', 'must be namespace/host');
    assertProblem(sc('egress:\n- hosts: ["ns/reviews"]'), 'spec.egress[0].hosts[0]', '"reviews.ns.svc.cluster.local"');
    assertProblem(sc('egress:\n- hosts: ["./reviews"]'), 'spec.egress[0].hosts[0]', 'such as "reviews.<namespace>.svc.cluster.local"');
    assertProblem(sc('egress:\n- hosts: ["ns/foo.*.com"]'), 'spec.egress[0].hosts[0]', 'wildcard');
    assertProblem(sc('egress:\n- hosts: ["Bad_NS/*"]'), 'spec.egress[0].hosts[0]', 'namespace part');
    assertProblem(sc('egress:\n- hosts: ["ns/a.com", "ns/a.com"]'), 'spec.egress[0].hosts[1]', 'duplicate egress host "ns/a.com"', 'warning');
    assertProblem(sc('egress:\n- hosts: ["ns/*", "ns/a.com"]'), 'spec.egress[0].hosts[1]', 'already covers it', 'warning');
    assertProblem(sc('egress:\n- hosts: ["ns/a.com", "ns/*"]'), 'spec.egress[0].hosts[1]', 'duplicate egress host', 'warning');
    assertProblem(sc('egress:\n- hosts: ["*/*", "ns/a.com"]'), 'spec.egress[0].hosts', '"*/*" already selects every service', 'warning');
  });

  it('checks the outbound traffic policy', () => {
    assertProblem(sc('outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n  egressProxy: {host: foo.bar, port: {number: 443}}'), 'spec.outboundTrafficPolicy.egressProxy', 'only applies with mode ALLOW_ANY (mode is REGISTRY_ONLY)');
    assertProblem(sc('outboundTrafficPolicy:\n  egressProxy: {host: foo.bar, port: {number: 443}}'), 'spec.outboundTrafficPolicy.egressProxy', 'REGISTRY_ONLY, the default');
    assertProblem(sc('outboundTrafficPolicy:\n  mode: ALLOW_ANY\n  egressProxy: {host: foo.bar}'), 'spec.outboundTrafficPolicy.egressProxy.port', 'needs a port');
    assertProblem(sc('outboundTrafficPolicy:\n  mode: ALLOW_ANY\n  egressProxy: {host: "*.bar", port: {number: 443}}'), 'spec.outboundTrafficPolicy.egressProxy.host', 'without wildcards');
    assertProblem(sc('outboundTrafficPolicy:\n  mode: ALLOW_ALL'), 'spec.outboundTrafficPolicy.mode', 'did you mean "ALLOW_ANY"?');
  });

  it('reports every error of a document, not just the first', () => {
    const set = check(sc(`
ingress:
- port: {number: 0, protocol: FOO}
  bind: x
egress:
- hosts: ["ns/short"]
- hosts: []`));
    assert.ok(set.problems.filter((p) => p.severity === 'error').length >= 4, set.problems.map((p) => `${p.field}: ${p.message}`).join('\n'));
  });
});
