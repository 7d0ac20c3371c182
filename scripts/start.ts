/**
 * `npm start`: the demo mesh will start here once `weft demo` exists (see the roadmap in README.md).
 * Until then it says what works today and how to try it.
 */
const lines = [
  'weft — a light service mesh that speaks Istio\'s configuration API.',
  '',
  'The demo mesh (npm start → http://localhost:8080/productpage) arrives with `weft demo`.',
  'What works today:',
  '',
  '  Checking Istio configuration',
  '    npx weft validate -f test/fixtures/istio/bookinfo/        # schema + Istio rules, file:line errors',
  '    npx weft analyze -f test/fixtures/istio/bookinfo/         # cross-resource analysis (IST0101, IST0109, …)',
  '',
  '  The control plane (xDS for Envoy-compatible and proxyless gRPC clients)',
  '    npx weft control --config test/fixtures/istio/bookinfo   # xDS on :15010, HTTP API on :15014',
  '    npx weft apply -f test/fixtures/istio/bookinfo/virtual-service-reviews-80-20.yaml',
  '    npx weft get vs -A',
  '    curl -s localhost:15014/debug/syncz',
  '',
  '  npx weft --help',
  '',
];
process.stdout.write(`${lines.join('\n')}\n`);
