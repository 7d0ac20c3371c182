import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, assertValid, check, doc } from '../../testing.ts';

const pa = (spec: string, namespace = 'foo') => doc('PeerAuthentication', 'security.istio.io/v1', spec, 'pa', namespace);

describe('PeerAuthentication', () => {
  it('accepts mesh-wide STRICT mTLS in the root namespace, in every served version', () => {
    for (const v of ['v1', 'v1beta1']) {
      assertValid(doc('PeerAuthentication', `security.istio.io/${v}`, 'mtls:\n  mode: STRICT', 'default', 'istio-system'), { noWarnings: true });
    }
  });

  it('accepts namespace PERMISSIVE, a workload policy with port-level mTLS, and no spec at all', () => {
    assertValid(pa('mtls: {mode: PERMISSIVE}'), { noWarnings: true });
    assertValid(pa(`
selector:
  matchLabels:
    app: finance
mtls:
  mode: STRICT
portLevelMtls:
  8080:
    mode: DISABLE
  "9090":
    mode: UNSET`), { noWarnings: true });
    const set = assertValid(pa(''), { noWarnings: true });
    assert.deepEqual(set.resources[0]!.spec, {});
  });

  it('rejects unknown modes with a suggestion', () => {
    assertProblem(pa('mtls: {mode: STRCT}'), 'spec.mtls.mode', 'did you mean "STRICT"?');
  });

  it('requires a selector with labels for portLevelMtls', () => {
    assertProblem(pa(`
mtls: {mode: STRICT}
portLevelMtls:
  8080: {mode: DISABLE}`), 'spec.portLevelMtls', 'needs a selector with matchLabels');
    assertProblem(pa(`
selector: {}
portLevelMtls:
  8080: {mode: DISABLE}`), 'spec.portLevelMtls', 'needs a selector with matchLabels');
  });

  it('checks portLevelMtls keys and emptiness', () => {
    assertProblem(pa(`
selector: {matchLabels: {app: a}}
portLevelMtls:
  0: {mode: DISABLE}`), 'spec.portLevelMtls["0"]', 'between 1 and 65535 (got "0")');
    assertProblem(pa(`
selector: {matchLabels: {app: a}}
portLevelMtls:
  http: {mode: DISABLE}`), 'spec.portLevelMtls.http', '(got "http")');
    assertProblem(pa(`
selector: {matchLabels: {app: a}}
portLevelMtls: {}`), 'spec.portLevelMtls', 'at least one port');
  });

  it('checks selector labels: wildcards, empty keys, and warns on an empty selector', () => {
    assertProblem(pa('selector: {matchLabels: {app: "*"}}'), 'spec.selector.matchLabels.app', 'wildcards are not supported');
    assertProblem(pa('selector: {matchLabels: {"": x}}'), 'spec.selector.matchLabels[""]', 'must not be empty');
    assertProblem(pa('selector: {}\nmtls: {mode: STRICT}'), 'spec.selector', 'selects every workload', 'warning');
  });

  it('suggests the field a typo meant', () => {
    assertProblem(pa('mtl: {mode: STRICT}'), 'spec.mtl', 'did you mean "mtls"?');
    const set = check(pa('portLevelMTLS: {}'));
    assert.ok(set.problems.some((p) => p.message.includes('portLevelMtls')));
  });
});
