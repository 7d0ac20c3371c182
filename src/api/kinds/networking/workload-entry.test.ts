import { describe, it } from 'node:test';
import { assertProblem, assertValid, doc } from '../../testing.ts';

const we = (spec: string, name = 'we') => doc('WorkloadEntry', 'networking.istio.io/v1', spec, name);

describe('WorkloadEntry', () => {
  it('accepts the reference example in every served version', () => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
      assertValid(doc('WorkloadEntry', `networking.istio.io/${v}`, `
serviceAccount: details-legacy
address: 2.2.2.2
labels:
  app: details-legacy
  instance-id: vm1`, 'details-svc'), { noWarnings: true });
    }
  });

  it('accepts host names, IPv6, unix sockets and every field', () => {
    assertValid(we(`
address: vm1.vpc01.corp.net
ports: {http: 8080, grpc-web: 9090}
labels: {app: details-legacy}
network: vpc1
locality: us-west/zone1/a
weight: 3
serviceAccount: details-legacy`), { noWarnings: true });
    assertValid(we('address: "2001:db8::1"'), { noWarnings: true });
    assertValid(we('address: unix:///var/run/example/socket'), { noWarnings: true });
    assertValid(we('address: "unix://@abstract"'), { noWarnings: true });
  });

  it('requires an address unless a network is given', () => {
    assertProblem(we('labels: {app: a}'), 'spec.address', 'address is required');
    assertProblem(we('network: vpc2'), 'spec.address', 'only reachable through network "vpc2"', 'warning');
  });

  it('checks the address form', () => {
    assertProblem(we('address: "bad host"'), 'spec.address', 'IP address, a host name or a unix:// socket (got "bad host")');
    assertProblem(we('address: unix://relative/sock'), 'spec.address', 'absolute path');
    assertProblem(we('address: unix:///var/run/'), 'spec.address', 'absolute path to a socket file');
    assertProblem(we('address: unix:///var/run/sock\nports: {http: 80}'), 'spec.ports', 'cannot have ports');
    assertProblem(we(`address: "${'a'.repeat(250)}.example.com"`), 'spec.address', 'longer than 256 characters');
  });

  it('checks ports, labels and weight', () => {
    assertProblem(we('address: 1.1.1.1\nports: {http: 70000}'), 'spec.ports.http', '(got 70000)');
    assertProblem(we('address: 1.1.1.1\nports: {Http_Port: 80}'), 'spec.ports.Http_Port', 'port name must be a DNS-1123 label');
    assertProblem(we('address: 1.1.1.1\nlabels: {app: "bad value!"}'), 'spec.labels.app', 'label value');
    assertProblem(we('address: 1.1.1.1\nweight: 1.5'), 'spec.weight', '(got 1.5)');
    assertProblem(we('address: 1.1.1.1\nserviceAcount: sa'), 'spec.serviceAcount', 'did you mean "serviceAccount"?');
  });
});
