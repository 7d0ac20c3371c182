/**
 * Property test: any valid VirtualService built from random HTTP matches and actions translates
 * without throwing into routes Envoy's protos accept, for sidecars, gateways and proxyless gRPC.
 * More runs: `FUZZ_RUNS=2000 node --test src/control/translate/http/http-routes.fuzz.test.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseConfig } from '../../../api/index.ts';
import { httpRoutes } from './http-routes.ts';
import { context, encodeRoutes } from './testing.ts';
import type { VirtualServiceResource } from './context.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 150);

const stringMatch = fc.oneof(
  fc.record({ exact: fc.constantFrom('', '/a', 'GET', 'jason') }),
  fc.record({ prefix: fc.constantFrom('/', '/api', 'x') }),
  fc.record({ regex: fc.constantFrom('/v[0-9]+', '.*', 'a|b') }),
  fc.constant({}),
);
const headerName = fc.constantFrom('end-user', 'x-a', 'x-b');
const match = fc.record({
  name: fc.constantFrom('m1', 'm2'),
  uri: stringMatch,
  method: fc.record({ exact: fc.constantFrom('GET', 'POST') }),
  headers: fc.dictionary(headerName, stringMatch, { maxKeys: 2 }),
  withoutHeaders: fc.dictionary(headerName, stringMatch, { maxKeys: 2 }),
  queryParams: fc.dictionary(fc.constantFrom('q', 'v'), stringMatch, { maxKeys: 2 }),
  ignoreUriCase: fc.boolean(),
  port: fc.constantFrom(80, 9080),
  sourceLabels: fc.constantFrom({ app: 'productpage' }, { app: 'other' }),
  gateways: fc.constantFrom(['mesh'], ['gw'], ['mesh', 'gw']),
}, { requiredKeys: [] });
const destination = fc.record({
  destination: fc.record({ host: fc.constantFrom('reviews', 'ratings', 'unknown-svc'), subset: fc.constantFrom('v1', 'v2') }, { requiredKeys: ['host'] }),
  weight: fc.integer({ min: 0, max: 100 }),
  headers: fc.constant({ request: { set: { 'x-d': '1', host: 'h' } }, response: { remove: ['x-r'] } }),
}, { requiredKeys: ['destination'] });
const policies = fc.record({
  timeout: fc.constantFrom('1s', '250ms'),
  retries: fc.constantFrom({ attempts: 0 }, { attempts: 3, retryOn: '5xx,503', perTryTimeout: '1s' }),
  fault: fc.constantFrom({ abort: { httpStatus: 503, percentage: { value: 10 } } }, { delay: { fixedDelay: '1s', percent: 5 } }),
  mirror: fc.constantFrom({ host: 'ratings' }),
  corsPolicy: fc.constantFrom({ allowOrigins: [{ exact: 'https://a' }], allowMethods: ['GET'], maxAge: '1m' }),
  headers: fc.constantFrom({ request: { add: { 'x-a': '1' } }, response: { set: { 'x-b': '2' } } }),
  rewrite: fc.constantFrom({ uri: '/new' }, { authority: 'x' }),
}, { requiredKeys: [] });
const action = fc.oneof(
  fc.record({ route: fc.array(destination, { minLength: 1, maxLength: 3 }) }),
  fc.record({ redirect: fc.constantFrom({ uri: '/r' }, { authority: 'b', derivePort: 'FROM_REQUEST_PORT' }, { scheme: 'https', port: 443, redirectCode: 307 }) }),
  fc.record({ directResponse: fc.constantFrom({ status: 404 }, { status: 200, body: { string: 'ok' } }) }),
);
const httpRoute = fc.tuple(fc.array(match, { maxLength: 3 }), action, policies)
  .map(([m, a, p]) => ({ ...(m.length > 0 ? { match: m } : {}), ...a, ...('route' in a ? p : {}) }));

test('random valid VirtualServices translate to routes that encode', () => {
  let valid = 0;
  fc.assert(fc.property(fc.array(httpRoute, { minLength: 1, maxLength: 4 }), fc.boolean(), (http, bound) => {
    const doc = {
      apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'r', namespace: 'default' },
      spec: { hosts: ['reviews'], ...(bound ? { gateways: ['gw', 'mesh'] } : {}), http },
    };
    const set = parseConfig(JSON.stringify(doc), 'fuzz.json');
    if (set.resources.length !== 1 || set.problems.some((p) => p.severity === 'error')) return;
    valid++;
    const vs = set.resources[0] as VirtualServiceResource;
    for (const over of [{}, { gateway: 'default/gw' }, { proxy: { namespace: 'default', labels: {}, kind: 'grpc' as const } }]) {
      encodeRoutes(httpRoutes(vs, context(over)));
    }
  }), { numRuns: RUNS });
  assert.ok(valid > RUNS / 10, `only ${valid} of ${RUNS} generated VirtualServices were valid`);
});
