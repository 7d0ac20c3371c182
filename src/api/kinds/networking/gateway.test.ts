import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, assertValid, check, doc } from '../../testing.ts';

const gw = (spec: string, name = 'gw') => doc('Gateway', 'networking.istio.io/v1', spec, name);

describe('Gateway', () => {
  it('accepts bookinfo-gateway and every served version', () => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
      assertValid(doc('Gateway', `networking.istio.io/${v}`, `
selector:
  istio: ingressgateway
servers:
- port: {number: 8080, name: http, protocol: HTTP}
  hosts: ["*"]`), { noWarnings: true });
    }
  });

  it('accepts HTTPS with credentialName, SIMPLE with files, MUTUAL, PASSTHROUGH and ISTIO_MUTUAL', () => {
    assertValid(gw(`
servers:
- port: {number: 443, name: https, protocol: HTTPS}
  hosts: ["bookinfo.example.com"]
  tls: {mode: SIMPLE, credentialName: bookinfo-cert}
- port: {number: 8443, name: https-files, protocol: HTTPS}
  hosts: ["ns1/*.example.com"]
  tls: {mode: SIMPLE, serverCertificate: /etc/certs/cert.pem, privateKey: /etc/certs/key.pem, minProtocolVersion: TLSV1_2}
- port: {number: 9443, name: mtls, protocol: HTTPS}
  hosts: ["./a.example.com"]
  tls: {mode: MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem}
- port: {number: 15443, name: tls, protocol: TLS}
  hosts: ["*.local"]
  tls: {mode: AUTO_PASSTHROUGH}
- port: {number: 15012, name: tls-istiod, protocol: TLS}
  hosts: ["*"]
  tls: {mode: ISTIO_MUTUAL}
- port: {number: 80, name: http, protocol: HTTP}
  hosts: ["*"]
  tls: {httpsRedirect: true}`), { noWarnings: true });
  });

  it('requires servers, port and hosts', () => {
    assertProblem(gw('selector: {istio: ingressgateway}'), 'spec.servers', 'is required');
    assertProblem(gw('servers: []'), 'spec.servers', 'at least one');
    assertProblem(gw('servers:\n- hosts: ["*"]'), 'spec.servers[0].port', 'is required');
    assertProblem(gw('servers:\n- port: {number: 80, name: http, protocol: HTTP}'), 'spec.servers[0].hosts', 'is required');
  });

  it('reports an out-of-range port with its value and line', () => {
    const problems = assertProblem(gw(`
servers:
- port: {number: 70000, name: http, protocol: HTTP}
  hosts: ["*"]`), 'spec.servers[0].port.number', '(got 70000)');
    assert.equal(problems[0]!.line, 8);
    assert.equal(problems[0]!.resource, 'Gateway default/gw');
  });

  it('rejects unknown protocols, duplicate port names and names that are not DNS labels', () => {
    assertProblem(gw(`
servers:
- port: {number: 80, name: http, protocol: HTTPX}
  hosts: ["*"]`), 'spec.servers[0].port.protocol', 'unsupported protocol "HTTPX"');
    assertProblem(gw(`
servers:
- port: {number: 80, name: http, protocol: HTTP}
  hosts: ["*"]
- port: {number: 81, name: http, protocol: HTTP}
  hosts: ["*"]`), 'spec.servers[1].port.name', 'unique');
    assertProblem(gw(`
servers:
- port: {number: 80, name: http, protocol: HTTP}
  hosts: ["*"]`, 'my.gateway'), 'metadata.name', 'DNS-1123 label');
  });

  it('checks TLS settings against the protocol and mode', () => {
    assertProblem(gw(`
servers:
- port: {number: 443, name: https, protocol: HTTPS}
  hosts: ["*"]`), 'spec.servers[0].tls', 'need tls settings');
    assertProblem(gw(`
servers:
- port: {number: 443, name: https, protocol: HTTPS}
  hosts: ["*"]
  tls: {mode: SIMPLE}`), 'spec.servers[0].tls.serverCertificate', 'needs serverCertificate');
    assertProblem(gw(`
servers:
- port: {number: 443, name: https, protocol: HTTPS}
  hosts: ["*"]
  tls: {mode: ISTIO_MUTUAL, credentialName: x}`), 'spec.servers[0].tls.credentialName', 'ISTIO_MUTUAL');
    assertProblem(gw(`
servers:
- port: {number: 31400, name: tcp, protocol: TCP}
  hosts: ["*"]
  tls: {mode: SIMPLE, credentialName: x}`), 'spec.servers[0].tls', 'only allowed on HTTPS and TLS');
    assertProblem(gw(`
servers:
- port: {number: 443, name: https, protocol: HTTPS}
  hosts: ["*"]
  tls: {mode: SIMPLE, credentialName: x, minProtocolVersion: TLSV1_3, maxProtocolVersion: TLSV1_2}`), 'spec.servers[0].tls.maxProtocolVersion', 'lower than');
  });

  it('checks hosts and bind addresses', () => {
    assertProblem(gw(`
servers:
- port: {number: 80, name: http, protocol: HTTP}
  hosts: ["foo/api.*.com"]`), 'spec.servers[0].hosts[0]', 'wildcard');
    assertProblem(gw(`
servers:
- port: {number: 80, name: http, protocol: HTTP}
  bind: 300.1.1.1
  hosts: ["*"]`), 'spec.servers[0].bind', 'IP address');
    assertValid(gw(`
servers:
- port: {number: 0, name: uds, protocol: HTTP}
  bind: unix:///var/run/gw.sock
  hosts: ["*"]`));
  });

  it('suggests the field a typo meant', () => {
    assertProblem(gw(`
selectr: {istio: ingressgateway}
servers:
- port: {number: 80, name: http, protocol: HTTP}
  hosts: ["*"]`), 'spec.selectr', 'did you mean "selector"?');
  });

  it('reports every error of a document, not just the first', () => {
    const set = check(gw(`
servers:
- port: {number: 0, name: a, protocol: FOO}
  hosts: ["*"]
  tlss: {}
- port: {number: 80, name: a, protocol: HTTP}
  hosts: []`));
    assert.ok(set.problems.length >= 4, set.problems.map((p) => p.field).join(', '));
  });
});
