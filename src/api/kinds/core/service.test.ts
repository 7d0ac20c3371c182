import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, assertValid, doc } from '../../testing.ts';

const svc = (spec: string, name = 'reviews') => doc('Service', 'v1', spec, name);

describe('Service', () => {
  it('accepts bookinfo-style services and every ServiceSpec field', () => {
    assertValid(svc(`
selector: {app: reviews}
ports:
- {port: 9080, name: http}`), { noWarnings: true });
    assertValid(svc(`
type: LoadBalancer
selector: {app: web}
ports:
- {name: http-web, port: 80, targetPort: http, protocol: TCP, nodePort: 30080}
- {name: grpc, port: 9090, targetPort: 9090, appProtocol: grpc}
clusterIP: 10.0.0.10
externalTrafficPolicy: Local
sessionAffinity: ClientIP
sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}
ipFamilies: [IPv4]
ipFamilyPolicy: SingleStack
loadBalancerSourceRanges: [10.0.0.0/8]`), { noWarnings: true });
    assertValid(svc('clusterIP: None\nselector: {app: db}'));
    assertValid(svc('type: ExternalName\nexternalName: db.example.com'));
  });

  it('checks ports: range, names, duplicates, targetPort form, nodePort type', () => {
    assertProblem(svc('ports: [{port: 70000}]'), 'spec.ports[0].port', 'between 1 and 65535 (got 70000)');
    assertProblem(svc('ports: [{port: 80, name: a}, {port: 81}]'), 'spec.ports[1].name', 'more than one port');
    assertProblem(svc('ports: [{port: 80, name: a}, {port: 81, name: a}]'), 'spec.ports[1].name', 'duplicate port name');
    assertProblem(svc('ports: [{port: 80, name: a}, {port: 80, name: b}]'), 'spec.ports[1].port', 'duplicate port 80/TCP');
    assertProblem(svc('ports: [{port: 80, targetPort: "Http_Port"}]'), 'spec.ports[0].targetPort', 'port number or a port name');
    assertProblem(svc('ports: [{port: 80, nodePort: 30080}]'), 'spec.ports[0].nodePort', 'NodePort or LoadBalancer');
    assertProblem(svc('ports: [{port: 80, protocol: HTTP}]'), 'spec.ports[0].protocol', 'must be one of TCP, UDP, SCTP (got "HTTP")');
  });

  it('needs ports (unless headless), an externalName for ExternalName, a DNS-1035 name', () => {
    assertProblem(svc('selector: {app: a}'), 'spec.ports', 'at least one port');
    assertProblem(svc('type: ExternalName'), 'spec.externalName', 'is required');
    assertProblem(svc('ports: [{port: 80}]', '9lives'), 'metadata.name', 'DNS-1035');
    assertProblem(svc('ports: [{port: 80}]\nclusterIP: 10.0.0.300'), 'spec.clusterIP', 'IP address');
  });

  it('rejects wildcards in selectors', () => {
    assertProblem(svc('selector: {app: "*"}\nports: [{port: 80}]'), 'spec.selector.app', 'wildcards are not supported');
  });
});

describe('Namespace', () => {
  it('is cluster-scoped and needs no spec', () => {
    const set = assertValid('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bookinfo\n  labels: {istio-injection: enabled}\n', { noWarnings: true });
    assert.equal(set.resources[0]!.kind, 'Namespace');
    assertProblem('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Book_Info\n', 'metadata.name', 'DNS-1123 label');
  });
});
