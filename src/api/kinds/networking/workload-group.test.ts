import { describe, it } from 'node:test';
import { assertProblem, assertValid, doc } from '../../testing.ts';

const wg = (spec: string, name = 'wg') => doc('WorkloadGroup', 'networking.istio.io/v1', spec, name);

describe('WorkloadGroup', () => {
  it('accepts the reference example in every served version', () => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
      assertValid(doc('WorkloadGroup', `networking.istio.io/${v}`, `
metadata:
  labels:
    app.kubernetes.io/name: reviews
    app.kubernetes.io/version: "1.3.4"
  annotations:
    example.com/owner: team-a
template:
  ports:
    grpc: 3550
    http: 8080
  serviceAccount: default
probe:
  initialDelaySeconds: 5
  timeoutSeconds: 3
  periodSeconds: 4
  successThreshold: 3
  failureThreshold: 3
  httpGet:
    path: /foo/bar
    host: 127.0.0.1
    port: 3100
    scheme: HTTPS
    httpHeaders:
    - name: Lit-Header
      value: Im-The-Best`, 'reviews'), { noWarnings: true });
    }
  });

  it('accepts tcpSocket and exec probes', () => {
    assertValid(wg('template: {serviceAccount: sa}\nprobe: {tcpSocket: {host: localhost, port: 3306}}'), { noWarnings: true });
    assertValid(wg('template: {}\nprobe: {exec: {command: [/bin/check, --ready]}}'), { noWarnings: true });
  });

  it('requires a template and checks it', () => {
    assertProblem(wg('metadata: {labels: {app: a}}'), 'spec.template', 'is required');
    assertProblem(wg('template: {ports: {http: 0}}'), 'spec.template.ports.http', '(got 0)');
    assertProblem(wg('template: {address: 10.0.0.1}'), 'spec.template.address', 'leave it out of the template', 'warning');
    assertProblem(wg('template: {labels: {app: a}}'), 'spec.template.labels', 'metadata.labels', 'warning');
    assertProblem(wg('template: {address: "unix:///run/s", ports: {http: 80}}'), 'spec.template.ports', 'cannot have ports');
    assertProblem(wg('template: {address: "unix://run/s"}'), 'spec.template.address', 'absolute path');
  });

  it('checks metadata labels', () => {
    assertProblem(wg('metadata: {labels: {app: "not valid!"}}\ntemplate: {}'), 'spec.metadata.labels.app', 'label value');
    assertProblem(wg('metadata: {lables: {app: a}}\ntemplate: {}'), 'spec.metadata.lables', 'did you mean "labels"?');
  });

  it('requires exactly one probe method', () => {
    assertProblem(wg('template: {}\nprobe: {periodSeconds: 5}'), 'spec.probe', 'one of httpGet, tcpSocket, exec, grpc must be set');
    assertProblem(wg('template: {}\nprobe: {httpGet: {port: 80}, tcpSocket: {port: 80}}'), 'spec.probe.tcpSocket', 'found httpGet and tcpSocket');
    assertProblem(wg('template: {}\nprobe: {grpc: {port: 9090, service: health}}'), 'spec.probe.grpc', 'not supported by Istio');
  });

  it('checks probe settings', () => {
    assertProblem(wg('template: {}\nprobe: {periodSeconds: -1, tcpSocket: {port: 80}}'), 'spec.probe.periodSeconds', '(got -1)');
    assertProblem(wg('template: {}\nprobe: {failureThreshold: -3, tcpSocket: {port: 80}}'), 'spec.probe.failureThreshold', '(got -3)');
    assertProblem(wg('template: {}\nprobe: {httpGet: {path: /}}'), 'spec.probe.httpGet.port', 'is required');
    assertProblem(wg('template: {}\nprobe: {httpGet: {port: 70000}}'), 'spec.probe.httpGet.port', '(got 70000)');
    assertProblem(wg('template: {}\nprobe: {httpGet: {port: 80, scheme: TCP}}'), 'spec.probe.httpGet.scheme', 'HTTP or HTTPS (got "TCP")');
    assertProblem(wg('template: {}\nprobe: {httpGet: {port: 80, httpHeaders: [{name: "bad header", value: x}]}}'), 'spec.probe.httpGet.httpHeaders[0].name', 'not a valid header name');
    assertProblem(wg('template: {}\nprobe: {tcpSocket: {host: h}}'), 'spec.probe.tcpSocket.port', 'is required');
    assertProblem(wg('template: {}\nprobe: {exec: {command: []}}'), 'spec.probe.exec.command', 'at least one');
    assertProblem(wg('template: {}\nprobe: {exec: {command: [""]}}'), 'spec.probe.exec.command[0]', 'must not be empty');
    assertProblem(wg('template: {}\nprobe: {exec: {}}'), 'spec.probe.exec.command', 'is required');
  });
});
