/**
 * Property tests: random mutations of valid resources never crash the parser or validator, and each
 * yields either a valid resource or errors that name a field path and a line.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseConfig } from './index.ts';
import { validateValue } from './validate.ts';
import type { RawDocument } from './source/documents.ts';

const SEEDS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match:
    - headers: {end-user: {exact: jason}}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 50}
    - {destination: {host: reviews, subset: v3}, weight: 50}
    timeout: 3s
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}, loadBalancer: {simple: RANDOM}}
  subsets:
  - {name: v1, labels: {version: v1}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*.example.com"]
    tls: {mode: SIMPLE, credentialName: cert}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ap}
spec:
  selector: {matchLabels: {app: x}}
  rules:
  - from: [{source: {namespaces: [default]}}]
    to: [{operation: {methods: [GET], paths: ["/a/*"]}}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
`;

const seeds = parseConfig(SEEDS, 'seed.yaml');
assert.equal(seeds.problems.filter((p) => p.severity === 'error').length, 0, JSON.stringify(seeds.problems));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** All paths to nodes of a JSON value. */
function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

type Op = { kind: 'set'; value: Json } | { kind: 'delete' } | { kind: 'rename'; name: string } | { kind: 'add'; name: string; value: Json };

function apply(root: Json, path: (string | number)[], op: Op): Json {
  const copy = structuredClone(root);
  if (path.length === 0) return op.kind === 'set' ? op.value : copy;
  let parent: Json = copy;
  for (const seg of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[seg]!;
  const last = path[path.length - 1]!;
  const container = parent as Record<string | number, Json>;
  if (op.kind === 'set') container[last] = op.value;
  else if (op.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete container[last];
  } else if (op.kind === 'rename' && !Array.isArray(parent)) {
    const v = container[last]!;
    delete container[last];
    container[op.name] = v;
  } else if (op.kind === 'add') {
    const target = container[last];
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) target[op.name] = op.value;
  }
  return copy;
}

const jsonValue = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 65536, 1e21, 0.5, '', '*', 'a/b', '1.5s', '-1s', '(?<=x)', 'x'.repeat(300), [], {}),
  fc.string(), fc.integer(), fc.double({ noNaN: true }),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);
const op: fc.Arbitrary<Op> = fc.oneof(
  jsonValue.map((value) => ({ kind: 'set' as const, value })),
  fc.constant({ kind: 'delete' as const }),
  fc.string({ minLength: 1, maxLength: 12 }).map((name) => ({ kind: 'rename' as const, name })),
  fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), jsonValue).map(([name, value]) => ({ kind: 'add' as const, name, value })),
);

const doc = (value: unknown): RawDocument => ({ file: 'fuzz.yaml', line: 1, value, locate: () => 1 });

describe('validation under random mutation', () => {
  it('never throws; yields a valid resource or errors with field paths', () => {
    const values = seeds.resources.map((r) => {
      const { source: _s, ...rest } = r;
      return JSON.parse(JSON.stringify(rest)) as Json;
    });
    fc.assert(
      fc.property(fc.nat(values.length - 1), fc.array(fc.tuple(fc.nat(), op), { minLength: 1, maxLength: 4 }), (seedIndex, ops) => {
        let v: Json = values[seedIndex] ?? null;
        for (const [pick, o] of ops) {
          const all = paths(v);
          v = apply(v, all[pick % all.length]!, o);
        }
        const result = validateValue(doc(v), v);
        const errors = result.problems.filter((p) => p.severity === 'error');
        if (result.resource !== undefined || result.foreign !== undefined) assert.equal(errors.length, 0);
        else {
          assert.ok(errors.length > 0, 'an invalid document must come with errors');
          for (const e of errors) {
            assert.ok(e.message.length > 0);
            assert.ok(e.field.length > 0 || v === null || typeof v !== 'object' || Array.isArray(v), `error without field path: ${e.message}`);
          }
        }
      }),
      { numRuns: Number(process.env["FUZZ_RUNS"] ?? 1500) },
    );
  });

  it('never throws on mangled YAML text', () => {
    fc.assert(
      fc.property(fc.nat(SEEDS.length), fc.nat(SEEDS.length), fc.string({ maxLength: 8 }), (at, len, insert) => {
        const text = SEEDS.slice(0, at) + insert + SEEDS.slice(at + (len % 16));
        const set = parseConfig(text, 'fuzz.yaml');
        for (const p of set.problems) assert.ok(p.line >= 0 && p.message.length > 0);
      }),
      { numRuns: 400 },
    );
  });
});
