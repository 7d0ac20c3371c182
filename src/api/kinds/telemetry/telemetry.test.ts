import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, assertValid, check, doc } from '../../testing.ts';
import { celSyntaxProblem } from './cel.ts';

const tel = (spec: string, namespace = 'foo') => doc('Telemetry', 'telemetry.istio.io/v1', spec, 'telemetry', namespace);

describe('Telemetry', () => {
  it('accepts the mesh-default tracing sampling example in every served version', () => {
    for (const v of ['v1', 'v1alpha1']) {
      assertValid(doc('Telemetry', `telemetry.istio.io/${v}`, `
tracing:
- providers:
  - name: otel-tracing
  randomSamplingPercentage: 10
  customTags:
    my_new_foo_tag:
      literal:
        value: "foo"`, 'mesh-default', 'istio-system'), { noWarnings: true });
    }
  });

  it('accepts every field of tracing, metrics and access logging', () => {
    assertValid(tel(`
selector:
  matchLabels:
    service.istio.io/canonical-name: frontend
tracing:
- match: {mode: SERVER}
  providers: [{name: zipkin}]
  randomSamplingPercentage: 54.54
  disableSpanReporting: false
  useRequestIdForTraceSampling: true
  enableIstioTags: null
  customTags:
    env: {environment: {name: NAME, defaultValue: default}}
    hdr: {header: {name: x-name, defaultValue: "default name"}}
    lit: {literal: {value: "default literal"}}
metrics:
- providers: [{name: prometheus}]
  reportingInterval: 5s
  overrides:
  - match: {metric: REQUEST_COUNT, mode: CLIENT}
    tagOverrides:
      request_method: {value: request.method}
      request_host: {operation: UPSERT, value: request.host}
      response_code: {operation: REMOVE}
  - match: {customMetric: foo}
    disabled: true
  - disabled: null
accessLogging:
- providers: [{name: envoy}]
  match: {mode: CLIENT}
  disabled: false
  filter:
    expression: 'response.code >= 400 || xds.cluster_name.startsWith("outbound|80") && request.headers["x-debug"] == "1"'`), { noWarnings: true });
  });

  it('accepts targetRef and the docs examples for metrics and logging', () => {
    assertValid(tel(`
targetRef:
  kind: Gateway
  group: gateway.networking.k8s.io
  name: waypoint
metrics:
- providers:
  - name: prometheus
  overrides:
  - match:
      metric: ALL_METRICS
    disabled: true`), { noWarnings: true });
    assertValid(tel(`
accessLogging:
- providers:
  - name: otel
  filter:
    expression: response.code >= 400`), { noWarnings: true });
  });

  it('checks providers, sampling and custom tags', () => {
    assertProblem(tel('metrics:\n- providers: [{name: ""}]'), 'spec.metrics[0].providers[0].name', 'must not be empty');
    assertProblem(tel('tracing:\n- providers: [{}]'), 'spec.tracing[0].providers[0].name', 'is required');
    assertProblem(tel('tracing:\n- randomSamplingPercentage: 150'), 'spec.tracing[0].randomSamplingPercentage', 'between 0 and 100 (got 150)');
    assertProblem(tel('tracing:\n- customTags: {a: {literal: {value: ""}}}'), 'spec.tracing[0].customTags.a.literal.value', 'must not be empty');
    assertProblem(tel('tracing:\n- customTags: {a: {header: {defaultValue: x}}}'), 'spec.tracing[0].customTags.a.header.name', 'is required');
    assertProblem(tel('tracing:\n- customTags: {a: {literal: {value: x}, header: {name: y}}}'), 'spec.tracing[0].customTags.a.header', 'only one of literal, environment, header');
    assertProblem(tel('tracing:\n- customTags: {a: {}}'), 'spec.tracing[0].customTags.a', 'adds nothing', 'warning');
    assertProblem(tel('tracing:\n- customTags: {"": {literal: {value: x}}}'), 'spec.tracing[0].customTags[""]', 'tag names must not be empty');
  });

  it('warns about several tracing entries or providers', () => {
    assertProblem(tel('tracing:\n- providers: [{name: a}]\n- providers: [{name: b}]'), 'spec.tracing', 'only one tracing configuration', 'warning');
    assertProblem(tel('tracing:\n- providers: [{name: a}, {name: b}]'), 'spec.tracing[0].providers', 'only one tracing provider', 'warning');
  });

  it('checks metric overrides', () => {
    assertProblem(tel('metrics:\n- overrides:\n  - match: {customMetric: ""}'), 'spec.metrics[0].overrides[0].match.customMetric', 'must not be empty');
    assertProblem(tel('metrics:\n- overrides:\n  - match: {metric: REQUEST_COUNTS}'), 'spec.metrics[0].overrides[0].match.metric', 'did you mean "REQUEST_COUNT"?');
    assertProblem(tel('metrics:\n- overrides:\n  - match: {metric: REQUEST_COUNT, customMetric: foo}'), 'spec.metrics[0].overrides[0].match.customMetric', 'only one of metric, customMetric');
    assertProblem(tel('metrics:\n- overrides:\n  - tagOverrides: {foo: {operation: UPSERT}}'), 'spec.metrics[0].overrides[0].tagOverrides.foo.value', 'value is required when operation is UPSERT');
    assertProblem(tel('metrics:\n- overrides:\n  - tagOverrides: {foo: {}}'), 'spec.metrics[0].overrides[0].tagOverrides.foo.value', 'UPSERT (the default)');
    assertProblem(tel('metrics:\n- overrides:\n  - tagOverrides: {foo: {operation: REMOVE, value: oops}}'), 'spec.metrics[0].overrides[0].tagOverrides.foo.value', 'must not be set when operation is REMOVE');
    assertProblem(tel('metrics:\n- overrides:\n  - tagOverrides: {"": {value: x}}'), 'spec.metrics[0].overrides[0].tagOverrides[""]', 'should not be empty', 'warning');
    assertProblem(tel('metrics:\n- reportingInterval: 0s'), 'spec.metrics[0].reportingInterval', 'at least 1ms');
  });

  it('checks access log filters and modes', () => {
    assertProblem(tel('accessLogging:\n- filter: {}'), 'spec.accessLogging[0].filter.expression', 'is required');
    assertProblem(tel('accessLogging:\n- filter: {expression: ""}'), 'spec.accessLogging[0].filter.expression', 'must be a CEL expression');
    assertProblem(tel('accessLogging:\n- filter: {expression: "response.code = 400"}'), 'spec.accessLogging[0].filter.expression', "lone '=' at column 15 (use '==')");
    assertProblem(tel('accessLogging:\n- match: {mode: BOTH}'), 'spec.accessLogging[0].match.mode', 'must be one of CLIENT_AND_SERVER, CLIENT, SERVER');
  });

  it('checks the selector and targets', () => {
    assertProblem(tel('selector: {matchLabels: {app: a}}\ntargetRef: {kind: Service, name: a}'), 'spec.targetRef', 'only one of selector, targetRef, targetRefs');
    assertProblem(tel('targetRefs: [{kind: Pod, name: a}]'), 'spec.targetRefs[0].kind', 'targetRef must name');
    assertProblem(tel('selector: {matchLabels: {"app*": a}}'), 'spec.selector.matchLabels["app*"]', 'wildcards are not supported');
  });

  it('reports every error of a document', () => {
    const set = check(tel(`
tracing:
- randomSamplingPercentage: -1
metrics:
- reportingInterval: soon
accessLogging:
- filter: {expression: "a &"}`));
    assert.ok(set.problems.filter((p) => p.severity === 'error').length >= 3, set.problems.map((p) => p.field).join(', '));
  });
});

describe('celSyntaxProblem', () => {
  it('accepts well-formed expressions', () => {
    for (const e of [
      'true', 'response.code >= 400', '!(a in [1, 2]) && b == "x\\"y"', "has(request.headers['x'])", 'r"\\d+" != b\'\\x00\'',
      '"""multi\nline""" == x', 'a ? b : c // note', 'size({"k": [1, 2.5]}) > 0', 'x.`dashed-field` == 1',
    ]) {
      assert.equal(celSyntaxProblem(e), undefined, e);
    }
  });

  it('finds unbalanced brackets, strings, stray characters and dangling operators', () => {
    assert.match(celSyntaxProblem('size(a') ?? '', /'\(' at column 5 is never closed/);
    assert.match(celSyntaxProblem('a)') ?? '', /unexpected '\)' at column 2/);
    assert.match(celSyntaxProblem('[a}') ?? '', /unexpected '}'/);
    assert.match(celSyntaxProblem('a == "x') ?? '', /unterminated string starting at column 6/);
    assert.match(celSyntaxProblem("'a\nb'") ?? '', /unterminated string/);
    assert.match(celSyntaxProblem('a # b') ?? '', /unexpected character '#'/);
    assert.match(celSyntaxProblem('a | b') ?? '', /use '\|\|'/);
    assert.match(celSyntaxProblem('a &&') ?? '', /ends with the operator '&'/);
    assert.match(celSyntaxProblem('   ') ?? '', /empty/);
  });
});
