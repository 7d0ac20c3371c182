import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, assertValid, doc } from '../../testing.ts';

const ra = (spec: string) => doc('RequestAuthentication', 'security.istio.io/v1', spec, 'jwt-example', 'foo');
const rule = (fields: string) => ra(`
selector: {matchLabels: {app: httpbin}}
jwtRules:
- issuer: testing@secure.istio.io
${fields.replace(/^\n/, '').split('\n').map((l) => `  ${l}`).join('\n')}`);

const JWKS = '{"keys":[{"e":"AQAB","kid":"DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ","kty":"RSA","n":"xAE7eB6qugXyCAG3yhh7pkDkT65pHymX"}]}';

describe('RequestAuthentication', () => {
  it('accepts the httpbin JWT example in every served version', () => {
    for (const v of ['v1', 'v1beta1']) {
      assertValid(doc('RequestAuthentication', `security.istio.io/${v}`, `
selector:
  matchLabels:
    app: httpbin
jwtRules:
- issuer: "testing@secure.istio.io"
  jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.24/security/tools/jwt/samples/jwks.json"`, 'jwt-example', 'foo'), { noWarnings: true });
    }
  });

  it('accepts every JWTRule field, inline keys, targetRefs and a gateway targetRef', () => {
    assertValid(rule(`
audiences: [bookstore_android.apps.example.com, bookstore_web.apps.example.com]
jwks: '${JWKS}'
fromHeaders:
- name: x-jwt-assertion
  prefix: "Bearer "
fromParams: [my_token]
fromCookies: [session]
outputPayloadToHeader: x-jwt-payload
forwardOriginalToken: true
outputClaimToHeaders:
- header: x-jwt-claim-foo
  claim: foo
timeout: 5s
spaceDelimitedClaims: [roles, custom_scope]
presence: REQUIRED`), { noWarnings: true });
    assertValid(ra(`
targetRefs:
- kind: Gateway
  group: gateway.networking.k8s.io
  name: waypoint
- kind: Service
  group: ""
  name: reviews
jwtRules:
- issuer: https://example.com
  jwks_uri: http://example.com/.well-known/jwks.json`), { noWarnings: true });
    assertValid(ra('targetRef: {kind: GatewayClass, group: gateway.networking.k8s.io, name: istio}'), { noWarnings: true });
  });

  it('requires an issuer unless jwksUri is set', () => {
    assertProblem(ra('jwtRules:\n- audiences: [a]'), 'spec.jwtRules[0].issuer', 'issuer is required');
    assertValid(ra('jwtRules:\n- jwksUri: https://example.com/jwks.json'));
    assertProblem(ra('jwtRules:\n- issuer: ""'), 'spec.jwtRules[0].issuer', 'must not be empty');
  });

  it('checks jwksUri and jwks', () => {
    assertProblem(rule('jwksUri: "hTPp\\\\blah"'), 'spec.jwtRules[0].jwksUri', 'http:// or https:// URL');
    assertProblem(rule('jwksUri: ftp://example.com/keys'), 'spec.jwtRules[0].jwksUri', 'http or https scheme (got "ftp://example.com/keys")');
    assertProblem(rule('jwks: "not json"'), 'spec.jwtRules[0].jwks', 'not a valid JSON Web Key Set');
    assertProblem(rule(`jwks: '{"keys":[{"n":"x"}]}'`), 'spec.jwtRules[0].jwks', 'keys[0] has no "kty"');
    assertProblem(rule(`jwksUri: https://a.example.com/keys\njwks: '${JWKS}'`), 'spec.jwtRules[0].jwks', 'only one of jwksUri, jwks_uri, jwks');
    assertProblem(rule('jwksUri: https://a.example.com/k\njwks_uri: https://b.example.com/k'), 'spec.jwtRules[0].jwks_uri', 'only one of');
  });

  it('rejects empty audiences, token locations and claims', () => {
    assertProblem(rule('audiences: [""]'), 'spec.jwtRules[0].audiences[0]', 'must not be empty');
    assertProblem(rule('fromHeaders:\n- prefix: baz'), 'spec.jwtRules[0].fromHeaders[0].name', 'is required');
    assertProblem(rule('fromHeaders:\n- name: ""'), 'spec.jwtRules[0].fromHeaders[0].name', 'must not be empty');
    assertProblem(rule('fromParams: [""]'), 'spec.jwtRules[0].fromParams[0]', 'must not be empty');
    assertProblem(rule('fromCookies: [""]'), 'spec.jwtRules[0].fromCookies[0]', 'must not be empty');
    assertProblem(rule('spaceDelimitedClaims: [""]'), 'spec.jwtRules[0].spaceDelimitedClaims[0]', 'must not be empty');
  });

  it('checks outputClaimToHeaders, timeout and presence', () => {
    assertProblem(rule('presence: MANDATORY'), 'spec.jwtRules[0].presence', 'must be one of OPTIONAL, REQUIRED (got "MANDATORY")');
    assertProblem(rule('outputClaimToHeaders:\n- claim: ""\n  header: h'), 'spec.jwtRules[0].outputClaimToHeaders[0].claim', 'must not be empty');
    assertProblem(rule('outputClaimToHeaders:\n- claim: x\n  header: ":authority"'), 'spec.jwtRules[0].outputClaimToHeaders[0].header', 'not a valid header name');
    assertProblem(rule('outputClaimToHeaders:\n- claim: x'), 'spec.jwtRules[0].outputClaimToHeaders[0].header', 'is required');
    assertProblem(rule('timeout: apple'), 'spec.jwtRules[0].timeout', 'must be a duration');
    assertProblem(rule('timeout: 0.5ms'), 'spec.jwtRules[0].timeout', 'at least 1ms');
  });

  it('allows only one of selector, targetRef and targetRefs', () => {
    assertProblem(ra(`
selector: {matchLabels: {a: b}}
targetRef: {kind: Service, group: "", name: foo}`), 'spec.targetRef', 'only one of selector, targetRef, targetRefs');
    assertProblem(ra(`
targetRef: {kind: Service, name: foo}
targetRefs: [{kind: Service, name: foo}]`), 'spec.targetRefs', 'only one of');
  });

  it('checks target references', () => {
    assertProblem(ra('targetRef: {kind: Service}'), 'spec.targetRef.name', 'is required');
    assertProblem(ra('targetRef: {kind: Service, name: foo, namespace: bar}'), 'spec.targetRef.namespace', 'cross-namespace references are not supported');
    assertProblem(ra('targetRef: {kind: Service, group: "__", name: foo}'), 'spec.targetRef.group', 'must be an API group');
    assertProblem(ra('targetRef: {kind: Serv_ice, name: foo}'), 'spec.targetRef.kind', 'must be a kind name');
    assertProblem(ra('targetRef: {kind: Deployment, group: apps, name: foo}'), 'spec.targetRef.kind', '(got apps/Deployment)');
    assertProblem(ra('targetRefs:\n- {kind: Gateway, group: networking.istio.io, name: gw}'), 'spec.targetRefs[0].kind', 'targetRef must name');
  });

  it('reports every problem of a rule list', () => {
    const problems = assertProblem(ra(`
jwtRules:
- issuer: a
  fromParams: [""]
- issuer: b
  audiences: [""]`), 'spec.jwtRules[1].audiences[0]', 'must not be empty');
    assert.ok(problems.some((p) => p.field === 'spec.jwtRules[0].fromParams[0]'));
  });
});
