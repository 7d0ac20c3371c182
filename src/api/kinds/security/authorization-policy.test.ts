import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, assertValid, check, doc } from '../../testing.ts';

const ap = (spec: string) => doc('AuthorizationPolicy', 'security.istio.io/v1', spec, 'policy', 'foo');
/** A policy with one rule whose `from`, `to` or `when` is given. */
const withRule = (rule: string, head = '') => ap(`${head}
rules:
- ${rule.replace(/^\n/, '').split('\n').join('\n  ')}`);

describe('AuthorizationPolicy', () => {
  it('accepts allow-nothing (empty spec and no spec) in every served version', () => {
    for (const v of ['v1', 'v1beta1']) {
      assertValid(doc('AuthorizationPolicy', `security.istio.io/${v}`, '{}', 'allow-nothing', 'foo'), { noWarnings: true });
    }
    assertValid(ap(''), { noWarnings: true });
  });

  it('accepts the httpbin ALLOW policy from the docs', () => {
    assertValid(ap(`
selector:
  matchLabels:
    app: httpbin
    version: v1
action: ALLOW
rules:
- from:
  - source:
      principals: ["cluster.local/ns/default/sa/curl"]
  - source:
      namespaces: ["dev"]
  to:
  - operation:
      methods: ["GET"]
      paths: ["/info*"]
  when:
  - key: request.auth.claims[iss]
    values: ["https://accounts.google.com"]`), { noWarnings: true });
  });

  it('accepts DENY, AUDIT, CUSTOM and allow-all policies', () => {
    assertValid(ap(`
action: DENY
rules:
- from:
  - source:
      notNamespaces: ["foo"]`), { noWarnings: true });
    assertValid(ap(`
action: AUDIT
rules:
- to:
  - operation:
      paths: ["/user/profile/*"]`), { noWarnings: true });
    assertValid(ap(`
selector: {matchLabels: {app: istio-ingressgateway}}
action: CUSTOM
provider:
  name: my-custom-authz
rules:
- to:
  - operation:
      paths: ["/admin/*"]`), { noWarnings: true });
    assertValid(ap('rules:\n- {}'), { noWarnings: true });
  });

  it('accepts every Source, Operation and Condition field', () => {
    assertValid(withRule(`
from:
- source:
    principals: [a]
    notPrincipals: [b]
    requestPrincipals: ["*"]
    notRequestPrincipals: [x/y]
    namespaces: [ns]
    notNamespaces: [other]
    ipBlocks: ["203.0.113.4", "10.0.0.0/8"]
    notIpBlocks: ["2001:db8::/32"]
    remoteIpBlocks: ["1.2.3.4"]
    notRemoteIpBlocks: ["5.6.7.0/24"]
- source:
    serviceAccounts: [default/productpage, reviews]
    notServiceAccounts: [other/sa]
to:
- operation:
    hosts: ["*.example.com"]
    notHosts: [admin.example.com]
    ports: ["8080"]
    notPorts: ["0"]
    methods: [GET, HEAD]
    notMethods: [DELETE]
    paths: ["/api/{*}/items/{**}"]
    notPaths: ["/admin*"]
when:
- key: source.ip
  values: ["10.1.2.3", "10.2.0.0/16"]
- key: request.headers[User-Agent]
  notValues: ["curl/*"]
- key: destination.port
  values: ["443"]
- key: source.serviceAccount
  values: [default/curl]
- key: experimental.envoy.filters.network.mysql_proxy[db.table]
  values: ["[update]"]
- key: request.experimental.inline.headers[x-a]
  values: [b]
- key: connection.sni
  values: [www.example.com]`), { noWarnings: true });
  });

  it('requires provider with CUSTOM and forbids it otherwise', () => {
    assertProblem(ap('action: CUSTOM\nrules:\n- {}'), 'spec.provider', 'action CUSTOM needs provider.name');
    assertProblem(ap('action: CUSTOM\nprovider: {name: ""}\nrules:\n- {}'), 'spec.provider', 'needs provider.name');
    assertProblem(ap('action: CUSTOM\nprovider: {name: ext}'), 'spec.action', 'CUSTOM policy without rules never triggers');
    assertProblem(ap('action: DENY\nprovider: {name: ext}\nrules:\n- {}'), 'spec.provider', 'only used with action CUSTOM (action is DENY)');
    assertProblem(ap('provider: {name: ext}'), 'spec.provider', '(action is ALLOW)');
  });

  it('rejects identity fields and conditions a CUSTOM provider cannot use', () => {
    const head = 'action: CUSTOM\nprovider: {name: ext}';
    assertProblem(withRule('from:\n- source: {principals: [a]}', head), 'spec.rules[0].from[0].source.principals', 'not supported with action CUSTOM');
    assertProblem(withRule('from:\n- source: {serviceAccounts: [a]}', head), 'spec.rules[0].from[0].source.serviceAccounts', 'not supported with action CUSTOM');
    assertProblem(withRule('when:\n- {key: "request.auth.claims[iss]", values: [x]}', head), 'spec.rules[0].when[0].key', 'condition request.auth.claims[iss] is not supported');
    assertValid(withRule('from:\n- source: {ipBlocks: [1.2.3.4]}', head), { noWarnings: true });
  });

  it('rejects DENY without rules and warns when a DENY rule only names HTTP attributes', () => {
    assertProblem(ap('action: DENY'), 'spec.action', 'DENY policy without rules never triggers');
    assertProblem(ap('action: DENY\nrules: []'), 'spec.action', 'DENY policy without rules');
    assertProblem(withRule('to:\n- operation: {methods: [POST]}', 'action: DENY'), 'spec.rules[0]', 'denies all TCP traffic', 'warning');
    assertProblem(withRule('from:\n- source: {requestPrincipals: ["*"]}', 'action: DENY'), 'spec.rules[0]', 'only uses HTTP attributes', 'warning');
    assertValid(withRule('to:\n- operation: {methods: [POST], ports: ["8080"]}', 'action: DENY'), { noWarnings: true });
    assertValid(withRule('from:\n- source: {namespaces: [dev]}', 'action: DENY'), { noWarnings: true });
  });

  it('checks IP blocks, ports and service accounts', () => {
    assertProblem(withRule('from:\n- source: {ipBlocks: ["10.0.0.0/33"]}'), 'spec.rules[0].from[0].source.ipBlocks[0]', 'CIDR block');
    assertProblem(withRule('from:\n- source: {notRemoteIpBlocks: ["abc"]}'), 'spec.rules[0].from[0].source.notRemoteIpBlocks[0]', '(got "abc")');
    assertProblem(withRule('to:\n- operation: {ports: ["http"]}'), 'spec.rules[0].to[0].operation.ports[0]', 'port number between 0 and 65535 (got "http")');
    assertProblem(withRule('to:\n- operation: {notPorts: ["65536"]}'), 'spec.rules[0].to[0].operation.notPorts[0]', '(got "65536")');
    assertProblem(withRule('from:\n- source: {serviceAccounts: ["a/b/c"]}'), 'spec.rules[0].from[0].source.serviceAccounts[0]', '"namespace/serviceAccount"');
    assertProblem(withRule('from:\n- source: {serviceAccounts: ["ns/*"]}'), 'spec.rules[0].from[0].source.serviceAccounts[0]', 'wildcards are not allowed');
    assertProblem(withRule('from:\n- source: {notServiceAccounts: ["/sa"]}'), 'spec.rules[0].from[0].source.notServiceAccounts[0]', '(got "/sa")');
    assertProblem(withRule(`from:\n- source: {serviceAccounts: [${Array.from({ length: 17 }, (_, i) => `sa${i}`).join(', ')}]}`), 'spec.rules[0].from[0].source.serviceAccounts', 'at most 16');
  });

  it('rejects serviceAccounts together with principals or namespaces', () => {
    assertProblem(withRule('from:\n- source:\n    serviceAccounts: ["bar/sa"]\n    namespaces: ["bar"]'),
      'spec.rules[0].from[0].source.serviceAccounts', 'cannot be combined with principals or namespaces (found namespaces)');
    assertProblem(withRule('from:\n- source:\n    notServiceAccounts: ["baz/sa"]\n    principals: ["bar"]'),
      'spec.rules[0].from[0].source.notServiceAccounts', '(found principals)');
  });

  it('rejects empty values, sources, operations and lists', () => {
    assertProblem(withRule('from:\n- source: {principals: [""]}'), 'spec.rules[0].from[0].source.principals[0]', 'must not be empty');
    assertProblem(withRule('to:\n- operation: {methods: [""]}'), 'spec.rules[0].to[0].operation.methods[0]', 'must not be empty');
    assertProblem(withRule('from:\n- source: {}'), 'spec.rules[0].from[0].source', 'source must set at least one field');
    assertProblem(withRule('from:\n- {}'), 'spec.rules[0].from[0].source', 'is required');
    assertProblem(withRule('to:\n- operation: {}'), 'spec.rules[0].to[0].operation', 'operation must set at least one field');
    assertProblem(withRule('to:\n- {}'), 'spec.rules[0].to[0].operation', 'is required');
    assertProblem(withRule('from: []'), 'spec.rules[0].from', 'at least one entry');
    assertProblem(withRule('to: []'), 'spec.rules[0].to', 'at least one entry');
  });

  it('checks path templates', () => {
    assertProblem(withRule('to:\n- operation: {paths: ["/{**}/foo/{*}"]}'), 'spec.rules[0].to[0].operation.paths[0]', '{**} must be the last segment');
    assertProblem(withRule('to:\n- operation: {notPaths: ["/foo/{bar}"]}'), 'spec.rules[0].to[0].operation.notPaths[0]', 'braces are only allowed');
    assertProblem(withRule('to:\n- operation: {paths: ["/{*}/foo*"]}'), 'spec.rules[0].to[0].operation.paths[0]', 'not a plain URI segment');
    assertValid(withRule('to:\n- operation: {paths: ["/foo/{*}/bar", "/{**}", "/prefix*", "*/suffix"]}'), { noWarnings: true });
  });

  it('checks condition keys and values', () => {
    assertProblem(withRule('when:\n- {key: source.ipp, values: [1.2.3.4]}'), 'spec.rules[0].when[0].key', 'unknown attribute "source.ipp" (did you mean "source.ip"?)');
    assertProblem(withRule('when:\n- {key: request.headers, values: [x]}'), 'spec.rules[0].when[0].key', 'name[key]');
    assertProblem(withRule('when:\n- {key: "request.auth.claims[]", values: [x]}'), 'spec.rules[0].when[0].key', 'name[key]');
    assertProblem(withRule('when:\n- {key: destination.namespace, values: [x]}'), 'spec.rules[0].when[0].key', 'metadata.namespace');
    assertProblem(withRule('when:\n- {key: "destination.labels[app]", values: [x]}'), 'spec.rules[0].when[0].key', "policy's selector");
    assertProblem(withRule('when:\n- {key: destination.user, values: [x]}'), 'spec.rules[0].when[0].key', 'v1alpha1');
    assertProblem(withRule('when:\n- {key: "", values: [x]}'), 'spec.rules[0].when[0].key', 'must not be empty');
    assertProblem(withRule('when:\n- {values: [x]}'), 'spec.rules[0].when[0].key', 'is required');
    assertProblem(withRule('when:\n- {key: source.ip}'), 'spec.rules[0].when[0]', 'at least one of values or notValues');
    assertProblem(withRule('when:\n- {key: source.ip, values: ["1.2.3.4/40"]}'), 'spec.rules[0].when[0].values[0]', 'CIDR block');
    assertProblem(withRule('when:\n- {key: destination.port, notValues: ["x"]}'), 'spec.rules[0].when[0].notValues[0]', '(got "x")');
    assertProblem(withRule('when:\n- {key: source.serviceAccount, values: ["a/b/c"]}'), 'spec.rules[0].when[0].values[0]', 'namespace/serviceAccount');
    assertProblem(withRule('when:\n- {key: source.namespace, values: [""]}'), 'spec.rules[0].when[0].values[0]', 'must not be empty');
  });

  it('checks the selector and targets', () => {
    assertProblem(ap('selector: {matchLabels: {app: "a*"}}\nrules:\n- {}'), 'spec.selector.matchLabels.app', 'wildcards are not supported');
    assertProblem(ap('selector: {matchLabels: {app: a}}\ntargetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]'), 'spec.targetRefs', 'only one of');
    assertProblem(ap('action: ALOW'), 'spec.action', 'did you mean "ALLOW"?');
  });

  it('reports every error of a document, not just the first', () => {
    const set = check(withRule(`
from:
- source: {ipBlocks: [bad], principals: [""]}
to:
- operation: {ports: [x]}
when:
- {key: nope, values: [a]}`, 'action: DENY'));
    assert.ok(set.problems.filter((p) => p.severity === 'error').length >= 4, set.problems.map((p) => p.field).join(', '));
  });
});
