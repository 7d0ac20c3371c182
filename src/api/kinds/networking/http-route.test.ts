import { describe, it } from 'node:test';
import { assertProblem, assertValid, doc } from '../../testing.ts';

/** A VirtualService for host `a` whose only HTTP route is `route` (YAML of one list item, unindented). */
const http = (route: string, extra = '') =>
  doc('VirtualService', 'networking.istio.io/v1', `hosts: [a.example.com]\n${extra}http:\n${route.replace(/^\n/, '').split('\n').map((l, i) => (i === 0 ? `- ${l}` : `  ${l}`)).join('\n')}`);

const FWD = 'route: [{destination: {host: a}}]';

describe('VirtualService HTTP routes', () => {
  it('accepts every HTTPRoute field', () => {
    assertValid(http(`
name: everything
match:
- name: m
  uri: {regex: "^/api/v[0-9]+/.*"}
  scheme: {exact: https}
  method: {prefix: P}
  authority: {exact: a.example.com}
  headers:
    x-user: {prefix: admin-}
    x-present: {}
  withoutHeaders:
    x-debug: {regex: "*"}
  queryParams:
    v: {exact: "2"}
  port: 8080
  sourceLabels: {app: web, version: v1}
  gateways: [mesh]
  sourceNamespace: frontend
  ignoreUriCase: true
  statPrefix: api
route:
- destination: {host: a, subset: v1, port: {number: 9080}}
  weight: 90
  headers:
    request: {set: {x-route: v1}}
- destination: {host: a, subset: v2}
  weight: 10
rewrite:
  authority: b.example.com
  uriRegexRewrite: {match: "^/api/(.*)", rewrite: "/\\\\1"}
timeout: 10s
retries:
  attempts: 3
  perTryTimeout: 2s
  retryOn: gateway-error,connect-failure,refused-stream,503
  retryRemoteLocalities: true
  retryIgnorePreviousHosts: true
  backoff: 25ms
fault:
  delay: {fixedDelay: 5s, percentage: {value: 0.1}}
  abort: {grpcStatus: UNAVAILABLE, percentage: {value: 1}}
mirrors:
- destination: {host: shadow, subset: v1}
  percentage: {value: 50}
corsPolicy:
  allowOrigins: [{exact: "https://example.com"}, {regex: "https://.*\\\\.example\\\\.com"}]
  allowMethods: [GET, POST]
  allowHeaders: [x-custom, "*"]
  exposeHeaders: [x-trace]
  maxAge: 24h
  allowCredentials: true
  unmatchedPreflights: IGNORE
headers:
  request:
    add: {x-req: "%HOSTNAME%", x-pct: "100%%", x-fmt: '%REQ(x-a)%'}
    remove: [x-internal]
  response:
    set: {x-resp: done}
    remove: [server]`), { noWarnings: true });
    assertValid(http(`
redirect: {uri: /v1/bookRatings, authority: newratings.default.svc.cluster.local, derivePort: FROM_REQUEST_PORT, scheme: https, redirectCode: 308}`), { noWarnings: true });
    // HTTPRedirect.prefixRewrite, documented in Istio's VirtualService reference (HTTPRedirect).
    assertValid(http(`
match: [{uri: {prefix: /foo/}}]
redirect: {authority: foo.example.com, prefixRewrite: /}`), { noWarnings: true });
    assertValid(http(`
directResponse: {status: 503, body: {string: "unavailable"}}`), { noWarnings: true });
    assertValid(http(`
directResponse: {status: 200, body: {bytes: "aGVsbG8="}}`), { noWarnings: true });
    assertValid(http(`
mirror: {host: shadow}
mirrorPercentage: {value: 12.5}
${FWD}`), { noWarnings: true });
  });

  it('requires exactly one action and rejects combinations Istio rejects', () => {
    assertProblem(http('name: nothing'), 'spec.http[0]', 'needs route, redirect, directResponse or delegate');
    assertProblem(http(`
redirect: {uri: /x}
${FWD}`), 'spec.http[0].route', 'cannot be combined with redirect');
    assertProblem(http(`
redirect: {uri: /x}
fault: {abort: {httpStatus: 500}}`), 'spec.http[0].fault', 'cannot be combined with redirect');
    assertProblem(http(`
redirect: {uri: /x}
rewrite: {uri: /y}`), 'spec.http[0].rewrite', 'cannot be combined with redirect');
    assertProblem(http(`
redirect: {uri: /x}
directResponse: {status: 200}`), 'spec.http[0].directResponse', 'cannot be combined with redirect');
    assertProblem(http(`
directResponse: {status: 404}
${FWD}`), 'spec.http[0].route', 'cannot be combined with directResponse');
    assertProblem(http(`
directResponse: {status: 404}
mirror: {host: shadow}`), 'spec.http[0].mirror', 'has no effect', 'warning');
    assertProblem(http(`
mirror: {host: shadow}
mirrors: [{destination: {host: shadow2}}]
${FWD}`), 'spec.http[0].mirrors', 'cannot both be set');
  });

  it('checks match header names and string matchers', () => {
    assertProblem(http(`
match: [{headers: {X-User: {exact: a}}}]
${FWD}`), 'spec.http[0].match[0].headers.X-User', 'should be lowercase', 'warning');
    assertProblem(http(`
match: [{headers: {"x user": {exact: a}}}]
${FWD}`), 'spec.http[0].match[0].headers["x user"]', 'not a valid header name');
    assertProblem(http(`
match: [{headers: {x-user: {prefix: ""}}}]
${FWD}`), 'spec.http[0].match[0].headers.x-user.prefix', 'prefix must not be empty');
    assertProblem(http(`
match: [{uri: {regex: "/a(?=b)"}}]
${FWD}`), 'spec.http[0].match[0].uri.regex', 'RE2');
    assertProblem(http(`
match: [{authority: {regex: ""}}]
${FWD}`), 'spec.http[0].match[0].authority.regex', 'must not be empty');
    assertProblem(http(`
match: [{queryParams: {q: {regex: "${'a'.repeat(1025)}"}}}]
${FWD}`), 'spec.http[0].match[0].queryParams.q.regex', 'longer than 1024');
    assertProblem(http(`
match: [{method: {exact: GET, prefix: P}}]
${FWD}`), 'spec.http[0].match[0].method.prefix', 'only one of exact, prefix, regex');
    assertProblem(http(`
match: [{withoutHeaders: {x-a: {regex: "(("}}}]
${FWD}`), 'spec.http[0].match[0].withoutHeaders.x-a.regex', 'RE2');
    assertValid(http(`
match: [{uri: {prefix: ""}}]
${FWD}`), { noWarnings: true });
  });

  it('checks match port, labels, namespace and gateways', () => {
    assertProblem(http(`
match: [{port: 65536}]
${FWD}`), 'spec.http[0].match[0].port', '(got 65536)');
    assertProblem(http(`
match: [{sourceLabels: {"bad key!": x}}]
${FWD}`), 'spec.http[0].match[0].sourceLabels["bad key!"]', 'label key');
    assertProblem(http(`
match: [{sourceNamespace: Frontend}]
${FWD}`), 'spec.http[0].match[0].sourceNamespace', 'DNS-1123 label');
    assertProblem(http(`
match: [{gateways: ["ns/"]}]
${FWD}`), 'spec.http[0].match[0].gateways[0]', 'must both be set');
  });

  it('checks header manipulation names and values', () => {
    assertProblem(http(`
headers: {request: {set: {":path": /x}}}
${FWD}`), 'spec.http[0].headers.request.set[":path"]', 'only :authority');
    assertValid(http(`
headers: {request: {set: {host: b.example.com}}}
${FWD}`), { noWarnings: true });
    assertProblem(http(`
headers: {request: {remove: [Host]}}
${FWD}`), 'spec.http[0].headers.request.remove[0]', 'host header');
    assertProblem(http(`
headers: {response: {set: {":status": "200"}}}
${FWD}`), 'spec.http[0].headers.response.set[":status"]', 'pseudo-headers');
    assertProblem(http(`
headers: {response: {add: {x-a: "50%"}}}
${FWD}`), 'spec.http[0].headers.response.add.x-a', 'unescaped %');
    assertProblem(http(`
headers: {request: {add: {x-a: "%REQ(x-b"}}}
${FWD}`), 'spec.http[0].headers.request.add.x-a', 'unterminated');
    assertProblem(http(`
route:
- destination: {host: a}
  headers: {request: {add: {x-a: "bad\\u0001value"}}}`), 'spec.http[0].route[0].headers.request.add.x-a', 'control characters');
    assertProblem(http(`
rewrite: {authority: b.example.com}
headers: {request: {set: {":authority": c.example.com}}}
${FWD}`), 'spec.http[0].headers.request.set[":authority"]', 'already set to "b.example.com"');
  });

  it('checks redirects', () => {
    assertProblem(http('redirect: {redirectCode: 301}'), 'spec.http[0].redirect', 'must change at least one');
    assertProblem(http('redirect: {uri: /x, redirectCode: 200}'), 'spec.http[0].redirect.redirectCode', '3xx redirect status code (got 200)');
    assertProblem(http('redirect: {uri: /x, redirectCode: 300}'), 'spec.http[0].redirect.redirectCode', 'not supported', 'warning');
    assertProblem(http('redirect: {scheme: ftp}'), 'spec.http[0].redirect.scheme', '"http" or "https" (got "ftp")');
    assertProblem(http('redirect: {port: 8443, derivePort: FROM_PROTOCOL_DEFAULT}'), 'spec.http[0].redirect.derivePort', 'only one of port, derivePort');
    assertProblem(http('redirect: {port: 70000}'), 'spec.http[0].redirect.port', '(got 70000)');
    assertProblem(http('redirect: {derivePort: FROM_REQUEST}'), 'spec.http[0].redirect.derivePort', 'must be one of FROM_PROTOCOL_DEFAULT, FROM_REQUEST_PORT');
    assertProblem(http('redirect: {uri: /x, prefixRewrite: /y}'), 'spec.http[0].redirect.prefixRewrite', 'only one of uri and prefixRewrite');
    // The reference example writes the proto name prefix_rewrite, which the CRD does not know.
    assertProblem(http('redirect: {authority: foo.example.com, prefix_rewrite: /}'), 'spec.http[0].redirect.prefix_rewrite', 'did you mean "prefixRewrite"');
  });

  it('checks direct responses', () => {
    assertProblem(http('directResponse: {status: 100}'), 'spec.http[0].directResponse.status', 'between 200 and 599 (got 100)');
    assertProblem(http('directResponse: {body: {string: x}}'), 'spec.http[0].directResponse.status', 'is required');
    assertProblem(http('directResponse: {status: 200, body: {string: x, bytes: eA==}}'), 'spec.http[0].directResponse.body.bytes', 'only one of string, bytes');
    assertProblem(http('directResponse: {status: 200, body: {bytes: "not base64!"}}'), 'spec.http[0].directResponse.body.bytes', 'base64');
    assertProblem(http(`directResponse: {status: 200, body: {string: "${'x'.repeat(200 * 1024)}"}}`), 'spec.http[0].directResponse.body.string', 'large direct response body', 'warning');
    assertProblem(http(`directResponse: {status: 200, body: {string: "${'x'.repeat(1024 * 1024 + 1)}"}}`), 'spec.http[0].directResponse.body.string', 'at most 1MB: it is sent to every proxy (got 1048577 bytes)');
  });

  it('checks rewrites', () => {
    assertProblem(http(`
rewrite: {uri: /x, uriRegexRewrite: {match: a, rewrite: b}}
${FWD}`), 'spec.http[0].rewrite.uriRegexRewrite', 'only one of uri and uriRegexRewrite');
    assertProblem(http(`
rewrite: {}
${FWD}`), 'spec.http[0].rewrite', 'must set uri, uriRegexRewrite or authority');
    assertProblem(http(`
rewrite: {uriRegexRewrite: {match: "^/a"}}
${FWD}`), 'spec.http[0].rewrite.uriRegexRewrite.rewrite', 'rewrite is missing');
    assertProblem(http(`
rewrite: {uriRegexRewrite: {match: "(?<=a)b", rewrite: c}}
${FWD}`), 'spec.http[0].rewrite.uriRegexRewrite.match', 'RE2');
  });

  it('checks timeouts and retries', () => {
    assertProblem(http(`timeout: 0s\n${FWD}`), 'spec.http[0].timeout', 'at least 1ms');
    assertProblem(http(`timeout: 1500us\n${FWD}`), 'spec.http[0].timeout', 'whole number of milliseconds');
    assertProblem(http(`timeout: 10\n${FWD}`), 'spec.http[0].timeout', 'must be a string');
    assertProblem(http(`retries: {attempts: -1}\n${FWD}`), 'spec.http[0].retries.attempts', '(got -1)');
    assertProblem(http(`retries: {retryOn: 5xx}\n${FWD}`), 'spec.http[0].retries.attempts', 'attempts is 0');
    assertProblem(http(`retries: {attempts: 2, retryOn: "5xx,sometimes"}\n${FWD}`), 'spec.http[0].retries.retryOn', '"sometimes" is not a retry condition');
    assertProblem(http(`retries: {attempts: 2, retryOn: "5xx, reset"}\n${FWD}`), 'spec.http[0].retries.retryOn', 'without spaces');
    assertProblem(http(`retries: {attempts: 2, retryOn: "599"}\n${FWD}`), 'spec.http[0].retries.retryOn', '"599"');
    assertProblem(http(`retries: {attempts: 2, perTryTimeout: 500us}\n${FWD}`), 'spec.http[0].retries.perTryTimeout', 'at least 1ms');
  });

  it('checks fault injection', () => {
    assertProblem(http(`fault: {}\n${FWD}`), 'spec.http[0].fault', 'must set delay, abort or both');
    assertProblem(http(`fault: {delay: {fixedDelay: 1s, percentage: {value: 101}}}\n${FWD}`), 'spec.http[0].fault.delay.percentage.value', '(got 101)');
    assertProblem(http(`fault: {delay: {exponentialDelay: 1s}}\n${FWD}`), 'spec.http[0].fault.delay.exponentialDelay', 'not supported');
    assertProblem(http(`fault: {delay: {fixedDelay: 1s, percent: 50}}\n${FWD}`), 'spec.http[0].fault.delay.percent', 'deprecated', 'warning');
    assertProblem(http(`fault: {delay: {fixedDelay: 1s, percent: 150}}\n${FWD}`), 'spec.http[0].fault.delay.percent', '(got 150)');
    assertProblem(http(`fault: {delay: {fixedDelay: 0.5ms}}\n${FWD}`), 'spec.http[0].fault.delay.fixedDelay', 'at least 1ms');
    assertProblem(http(`fault: {abort: {httpStatus: 700}}\n${FWD}`), 'spec.http[0].fault.abort.httpStatus', '(got 700)');
    assertProblem(http(`fault: {abort: {grpcStatus: NOTFOUND}}\n${FWD}`), 'spec.http[0].fault.abort.grpcStatus', 'unknown gRPC status "NOTFOUND"');
    assertProblem(http(`fault: {abort: {http2Error: CANCEL}}\n${FWD}`), 'spec.http[0].fault.abort.http2Error', 'not supported');
    assertProblem(http(`fault: {abort: {httpStatus: 500, grpcStatus: INTERNAL}}\n${FWD}`), 'spec.http[0].fault.abort.grpcStatus', 'only one of');
    assertProblem(http(`fault: {abort: {percentage: {value: 5}}}\n${FWD}`), 'spec.http[0].fault.abort', 'nothing is injected', 'warning');
  });

  it('checks mirroring percentages', () => {
    assertProblem(http(`mirror: {host: s}\nmirrorPercentage: {value: 150}\n${FWD}`), 'spec.http[0].mirrorPercentage.value', '(got 150)');
    assertProblem(http(`mirror: {host: s}\nmirrorPercent: 101\n${FWD}`), 'spec.http[0].mirrorPercent', 'at most 100 (got 101)');
    assertProblem(http(`mirror: {host: s}\nmirrorPercent: 50\n${FWD}`), 'spec.http[0].mirrorPercent', 'deprecated', 'warning');
    assertProblem(http(`mirror: {host: s}\nmirror_percent: 50\n${FWD}`), 'spec.http[0].mirror_percent', 'deprecated', 'warning');
    assertProblem(http(`mirrors: [{destination: {host: s}, percentage: {value: -1}}]\n${FWD}`), 'spec.http[0].mirrors[0].percentage.value', '(got -1)');
    assertProblem(http(`mirrors: [{percentage: {value: 1}}]\n${FWD}`), 'spec.http[0].mirrors[0].destination', 'is required');
  });

  it('accepts the removed websocketUpgrade field of Istio\'s websockets sample with a warning', () => {
    assertProblem(http(`websocketUpgrade: true\n${FWD}`), 'spec.http[0].websocketUpgrade', 'removed', 'warning');
  });

  it('checks CORS policies', () => {
    assertProblem(http(`corsPolicy: {allowMethods: [GET, FETCH]}\n${FWD}`), 'spec.http[0].corsPolicy.allowMethods[1]', '"FETCH" is not a supported HTTP method');
    assertProblem(http(`corsPolicy: {allowOrigins: [{exact: ""}]}\n${FWD}`), 'spec.http[0].corsPolicy.allowOrigins[0]', 'non-empty');
    assertProblem(http(`corsPolicy: {allowOrigins: [{regex: "(?!x)"}]}\n${FWD}`), 'spec.http[0].corsPolicy.allowOrigins[0].regex', 'RE2');
    assertProblem(http(`corsPolicy: {allowHeaders: ["x header"]}\n${FWD}`), 'spec.http[0].corsPolicy.allowHeaders[0]', 'not a valid header name');
    assertProblem(http(`corsPolicy: {exposeHeaders: [""]}\n${FWD}`), 'spec.http[0].corsPolicy.exposeHeaders[0]', 'must not be empty');
    assertProblem(http(`corsPolicy: {maxAge: 1500ms}\n${FWD}`), 'spec.http[0].corsPolicy.maxAge', 'whole number of seconds');
    assertProblem(http(`corsPolicy: {allowOrigin: ["*"]}\n${FWD}`), 'spec.http[0].corsPolicy.allowOrigin', 'deprecated', 'warning');
    assertProblem(http(`corsPolicy: {unmatchedPreflights: DROP}\n${FWD}`), 'spec.http[0].corsPolicy.unmatchedPreflights', 'must be one of UNSPECIFIED, FORWARD, IGNORE');
  });
});
