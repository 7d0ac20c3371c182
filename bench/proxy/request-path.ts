/**
 * `node bench/proxy/request-path.ts [--requests 200000]`: what weft's own request path costs, without
 * sockets, node:http or undici. One sidecar outbound request as the bench mesh sends it (absolute-form
 * GET through virtualOutbound, Istio's route with its retry policy and attempt-count header, CORS and
 * fault filters, router, the real cluster manager and its host dispatcher) runs through an
 * `ActiveStream` against an in-memory downstream and an in-memory upstream that answers at once with
 * 200 and 1 KiB. Prints the main thread's CPU microseconds per request (`process.threadCpuUsage`: the
 * process's total also counted V8's GC and compiler threads, a median of ~26 against ~8 µs) and bytes
 * allocated per request (V8 heap growth
 * between two GCs, in a young generation big enough that no GC runs inside a batch), so a change to
 * the hot path can be judged without the noise of a shared machine. `--sites` also lists where the
 * bytes are allocated (V8's sampling heap profiler, keeping collected objects).
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import { Session } from 'node:inspector';
import { parseArgs } from 'node:util';
import type { Dispatcher } from 'undici';
import { Stats } from '../../src/proxy/core/stats.ts';
import { ActiveStream, type HcmRuntime } from '../../src/proxy/http/active-stream.ts';
import type { Downstream, DownstreamListener } from '../../src/proxy/http/downstream.ts';
import type { ConnectionFacts } from '../../src/proxy/http/filter-stream.ts';
import { compileHcmConfig, hcmRuntime } from '../../src/proxy/http/hcm-factory.ts';
import { builtinFilters } from '../../src/proxy/http/index.ts';
import type { HttpProtocol } from '../../src/proxy/http/stream-info.ts';
import { clusterResource, decoded, harness } from '../../src/proxy/upstream/testing.ts';

const FLAGS = ['--expose-gc', '--max-semi-space-size=64', '--min-semi-space-size=64'];
if (!FLAGS.every((f) => process.execArgv.includes(f))) {
  process.execve!(process.execPath, [process.execPath, ...process.execArgv, ...FLAGS, ...process.argv.slice(1)], process.env);
}

const { values: args } = parseArgs({ options: { requests: { type: 'string', default: '200000' }, sites: { type: 'boolean', default: false } } });
const CLUSTER = 'outbound|9080||direct-app.default.svc.cluster.local';
const BODY = Buffer.alloc(1024, 'x');
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const filter = (name: string, type: string) => ({ name, typedConfig: { '@type': `type.googleapis.com/${type}` } });

/** virtualOutbound's HCM as weft control generates it (config_dump of the bench mesh), routes inline. */
const hcm = decoded(HCM, {
  statPrefix: 'outbound_127.0.1.2_15001',
  httpFilters: [
    filter('envoy.filters.http.cors', 'envoy.extensions.filters.http.cors.v3.Cors'),
    filter('envoy.filters.http.fault', 'envoy.extensions.filters.http.fault.v3.HTTPFault'),
    filter('envoy.filters.http.router', 'envoy.extensions.filters.http.router.v3.Router'),
  ],
  http2ProtocolOptions: { allowConnect: true },
  streamIdleTimeout: {},
  useRemoteAddress: { value: false },
  upgradeConfigs: [{ upgradeType: 'websocket' }, { upgradeType: 'CONNECT' }],
  normalizePath: { value: true },
  pathWithEscapedSlashesAction: 'KEEP_UNCHANGED',
  routeConfig: {
    name: '15001',
    virtualHosts: [{
      name: '15001/direct-app.default.svc.cluster.local:9080',
      domains: ['direct-app.default.svc.cluster.local:9080', 'direct-app.default:9080', 'direct-app.default.svc:9080', 'direct-app:9080'],
      routes: [{
        name: 'default',
        match: { prefix: '/' },
        route: {
          cluster: CLUSTER,
          timeout: {},
          retryPolicy: {
            retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
            numRetries: { value: 2 },
            retryHostPredicate: [filter('envoy.retry_host_predicates.previous_hosts', 'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate')],
            hostSelectionRetryMaxAttempts: 5,
          },
          maxGrpcTimeout: {},
        },
        decorator: { operation: 'direct-app.default.svc.cluster.local:9080/*' },
      }],
      includeRequestAttemptCount: true,
    }],
  },
});

/** An upstream that answers every request at once, as undici's handler API would deliver it. */
class InstantUpstream {
  readonly #controller = { abort() {}, pause() {}, resume() {}, paused: false, aborted: false, reason: null } as unknown as Dispatcher.DispatchController;

  dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    handler.onRequestStart?.(this.#controller, {});
    const headers: IncomingHttpHeaders = { 'content-type': 'text/plain', 'content-length': '1024', date: 'Sat, 21 Nov 2026 16:00:00 GMT', connection: 'keep-alive', 'keep-alive': 'timeout=60' };
    handler.onResponseStart?.(this.#controller, 200, headers, 'OK');
    handler.onResponseData?.(this.#controller, BODY);
    handler.onResponseEnd?.(this.#controller, {});
    return true;
  }
}

/** The HTTP/1.1 downstream of one absolute-form request, recording nothing but the status. */
class MemoryDownstream implements Downstream {
  readonly protocol: HttpProtocol = 'HTTP/1.1';
  readonly method = 'GET';
  readonly authority = 'direct-app:9080';
  readonly path = '/';
  readonly absoluteForm = true;
  readonly headers: Record<string, string | string[] | undefined> = { host: 'direct-app:9080', connection: 'keep-alive' };
  readonly headerCount = 2;
  readonly upgrade = undefined;
  readonly connect = false;
  readonly hasBody = false;
  readonly body = EMPTY;
  headersSent = false;
  closed = false;
  status = 0;
  #listener: DownstreamListener | undefined;

  writeHead(status: number, _headers: OutgoingHttpHeaders): void {
    this.status = status;
    this.headersSent = true;
  }
  expectTrailers(): void {}
  write(): boolean {
    return true;
  }
  end(): void {
    this.closed = true;
    this.#listener?.downstreamClosed();
  }
  onDrain(): void {}
  attach(listener: DownstreamListener): void {
    this.#listener = listener;
  }
  retractHead(): boolean {
    return false;
  }
  reset(): void {
    this.closed = true;
  }
  tunnel(): Duplex | undefined {
    return undefined;
  }
}

const EMPTY = new Readable({ read() {} });

function runtime(): HcmRuntime {
  const registry = builtinFilters();
  const compiled = compileHcmConfig(hcm, registry);
  if (compiled.problems.length > 0) throw new Error(compiled.problems.join('; '));
  const h = harness();
  h.clusters([clusterResource({
    name: CLUSTER,
    type: 'STATIC',
    connectTimeout: { seconds: 10 },
    loadAssignment: { clusterName: CLUSTER, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 9 } } } }] }] },
    typedExtensionProtocolOptions: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicitHttpConfig: { httpProtocolOptions: {} } },
    },
  })]);
  const cluster = h.manager.cluster(CLUSTER)!;
  const host = cluster.pick()!;
  // The host's real dispatcher (request accounting, stats), over the in-memory upstream instead of an undici Pool.
  Object.defineProperty(cluster.dispatcher(host), 'pool', { value: new InstantUpstream() });
  const deps = { clusters: h.manager, routes: { get: () => undefined, onChange: () => () => {} }, stats: new Stats(), subscriptions: { want() {} }, listener: { name: 'virtualOutbound', direction: 'OUTBOUND' as const } };
  return hcmRuntime(compiled.config, compiled.inline, deps, undefined);
}

const facts: ConnectionFacts = { remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.1.2', localPort: 15001, tls: false };

function one(rt: HcmRuntime): void {
  const down = new MemoryDownstream();
  new ActiveStream(rt, down, facts).start();
  if (down.status !== 200) throw new Error(`status ${down.status}`);
}

function batch(rt: HcmRuntime, n: number): { usPerRequest: number; bytesPerRequest: number } {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = process.threadCpuUsage();
  for (let i = 0; i < n; i++) one(rt);
  const cpu = process.threadCpuUsage(t0);
  const heap1 = process.memoryUsage().heapUsed;
  return { usPerRequest: (cpu.user + cpu.system) / n, bytesPerRequest: (heap1 - heap0) / n };
}

const rt = runtime();
const total = Number(args.requests);
const size = 2000; // ~2000 × a few kB stays inside the 64 MB young generation: no GC inside a batch
for (let i = 0; i < 20_000; i++) one(rt); // warm-up: JIT tiers up
const results: { usPerRequest: number; bytesPerRequest: number }[] = [];
for (let done = 0; done < total; done += size) results.push(batch(rt, size));
const sorted = (k: 'usPerRequest' | 'bytesPerRequest') => results.map((r) => r[k]).sort((a, b) => a - b);
const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
console.log(`weft request path (in memory, ${total} requests in batches of ${size}): ${median(sorted('usPerRequest')).toFixed(2)} µs main-thread CPU and ${median(sorted('bytesPerRequest')).toFixed(0)} bytes allocated per request (medians; min ${sorted('usPerRequest')[0]!.toFixed(2)} µs)`);

/** Allocation sites of `n` requests, by function, in bytes per request. */
async function sites(n: number): Promise<void> {
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) => new Promise<unknown>((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r))));
  await post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  for (let i = 0; i < n; i++) one(rt);
  const { profile } = await post('HeapProfiler.stopSampling') as { profile: { head: SamplingNode } };
  const bySite = new Map<string, number>();
  const name = (f: SamplingNode['callFrame']) => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
  const walk = (node: SamplingNode, caller: string) => {
    const f = node.callFrame;
    // Built-ins (no URL) are listed under the function that called them.
    const key = f.url === '' ? `${f.functionName || '(builtin)'} in ${caller}` : name(f);
    if (node.selfSize > 0) bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c, f.url === '' ? caller : name(f));
  };
  walk(profile.head, '');
  for (const [key, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(bytes / n).toFixed(0).padStart(6)} B/request  ${key}`);
}

interface SamplingNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: SamplingNode[] }

if (args.sites) await sites(20_000);
