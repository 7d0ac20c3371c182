/**
 * `npm run bench:config`: parse + validate 10,000 resources (a realistic mix of every kind), as
 * `weft validate` and the control plane's config store do. Target: under 1 second on the CI machine.
 * Prints best-of-N wall time for parse-only and parse+validate, µs per resource and resources/s.
 */
import { parseConfig } from '../src/api/index.ts';
import { parseDocuments } from '../src/api/source/documents.ts';
import { machine } from './machine.ts';

const N = Number(process.env['BENCH_RESOURCES'] ?? 10_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);

const TEMPLATES: readonly ((i: number) => string)[] = [
  (i) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-${i}, namespace: ns-${i % 50}}
spec:
  hosts: [reviews-${i}]
  http:
  - match:
    - headers: {end-user: {exact: jason}}
      uri: {prefix: /api/v1}
    fault: {delay: {percentage: {value: 10}, fixedDelay: 2s}}
    route:
    - destination: {host: reviews-${i}, subset: v2}
  - route:
    - destination: {host: reviews-${i}, subset: v1}
      weight: 80
    - destination: {host: reviews-${i}, subset: v3}
      weight: 20
    timeout: 3s
    retries: {attempts: 3, perTryTimeout: 1s, retryOn: "5xx,connect-failure"}
`,
  (i) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-${i}, namespace: ns-${i % 50}}
spec:
  host: reviews-${i}
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    connectionPool: {tcp: {maxConnections: 100}, http: {http1MaxPendingRequests: 10}}
    outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
`,
  (i) => `apiVersion: v1
kind: Service
metadata: {name: svc-${i}, namespace: ns-${i % 50}, labels: {app: svc-${i}}}
spec:
  selector: {app: svc-${i}}
  ports:
  - {name: http, port: 9080, targetPort: 9080}
`,
  (i) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext-${i}, namespace: ns-${i % 50}}
spec:
  hosts: [api-${i}.example.com]
  ports:
  - {number: 443, name: https, protocol: TLS}
  location: MESH_EXTERNAL
  resolution: DNS
`,
  (i) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-${i}, namespace: ns-${i % 50}}
spec:
  selector: {matchLabels: {app: svc-${i}}}
  action: ALLOW
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/default/sa/sleep"]}
    to:
    - operation: {methods: [GET], paths: ["/info*"]}
    when:
    - {key: "request.headers[x-token]", values: ["abc"]}
`,
];

function corpus(n: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) docs.push(TEMPLATES[i % TEMPLATES.length]!(i));
  return docs.join('---\n');
}

function best(fn: () => void): number {
  let min = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return min;
}

const text = corpus(N);
if (process.env["BENCH_DUMP"]) { (await import("node:fs")).writeFileSync(process.env["BENCH_DUMP"], text); process.exit(0); }
const check = parseConfig(text, 'bench.yaml');
const errors = check.problems.filter((p) => p.severity === 'error');
if (errors.length > 0 || check.resources.length !== N) {
  console.error(`benchmark corpus is not valid (${errors.length} errors, ${check.resources.length}/${N} resources):`, errors.slice(0, 3));
  process.exit(1);
}
const parseMs = best(() => parseDocuments(text, 'bench.yaml'));
const totalMs = best(() => parseConfig(text, 'bench.yaml'));
const mb = Buffer.byteLength(text) / 2 ** 20;
console.log(`config API: parse + validate ${N.toLocaleString()} resources (${mb.toFixed(1)} MiB of YAML), best of ${RUNS}`);
console.log(`machine: ${machine()}`);
console.log(`  YAML parse only     ${parseMs.toFixed(0).padStart(6)} ms`);
console.log(`  parse + validate    ${totalMs.toFixed(0).padStart(6)} ms   ${(totalMs * 1000 / N).toFixed(1)} µs/resource   ${Math.round(N / (totalMs / 1000)).toLocaleString()} resources/s`);
console.log(`  validate share      ${(totalMs - parseMs).toFixed(0).padStart(6)} ms`);
console.log(`  target < 1000 ms:   ${totalMs < 1000 ? 'met' : `missed by ${(totalMs - 1000).toFixed(0)} ms`}`);
