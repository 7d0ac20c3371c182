/**
 * A cluster's upstream HTTP settings: `typed_extension_protocol_options
 * ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]` (explicit HTTP/1.1 or HTTP/2, the
 * downstream's protocol, or auto), plus the deprecated cluster-level fields Envoy still honours
 * (`http2_protocol_options`, `common_http_protocol_options`, `protocol_selection`,
 * `max_requests_per_connection`). Compiled into what the connection pools need.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/upstreams/http/v3/http_protocol_options.proto
 */
import type { Problems, Proto } from './proto-read.ts';
import { anyType, at, durationMs, has, list, message, obj, u32 } from './proto-read.ts';

export const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const HTTP_PROTOCOL_OPTIONS_URL = `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS}`;

export interface HttpOptions {
  /** `downstream`: the upstream protocol follows each request's (use_downstream_protocol_config). */
  readonly protocol: 'http1' | 'http2' | 'downstream';
  /** common_http_protocol_options.idle_timeout (Envoy's default: 1 hour). */
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection: number | undefined;
  readonly maxConnectionDurationMs: number | undefined;
  /** HTTP/2 streams per connection before the pool opens another (Envoy's default is unbounded; the peer's SETTINGS still apply). */
  readonly maxConcurrentStreams: number;
  readonly initialStreamWindowSize: number | undefined;
  readonly initialConnectionWindowSize: number | undefined;
}

const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
/** undici needs a finite stream budget per connection; Node's HTTP/2 server advertises 100 by default. */
const DEFAULT_MAX_CONCURRENT_STREAMS = 100;

interface Common {
  idleTimeoutMs?: number;
  maxRequestsPerConnection?: number;
  maxConnectionDurationMs?: number;
}

function compileCommon(c: Proto, path: string, problems: Problems): Common {
  const out: Common = {};
  const idle = durationMs(c, 'idleTimeout', path, problems);
  if (idle !== undefined) out.idleTimeoutMs = idle;
  const maxRequests = u32(c, 'maxRequestsPerConnection', path, problems);
  if (maxRequests !== undefined && maxRequests > 0) out.maxRequestsPerConnection = maxRequests;
  const maxDuration = durationMs(c, 'maxConnectionDuration', path, problems);
  if (maxDuration !== undefined && maxDuration > 0) out.maxConnectionDurationMs = maxDuration;
  return out;
}

interface H2 {
  maxConcurrentStreams?: number;
  initialStreamWindowSize?: number;
  initialConnectionWindowSize?: number;
}

function compileH2(h2: Proto, path: string, problems: Problems): H2 {
  const out: H2 = {};
  const streams = u32(h2, 'maxConcurrentStreams', path, problems);
  if (streams !== undefined) {
    if (streams < 1) problems.add(at(path, 'maxConcurrentStreams'), 'must be at least 1');
    else out.maxConcurrentStreams = streams;
  }
  const stream = u32(h2, 'initialStreamWindowSize', path, problems);
  if (stream !== undefined) {
    if (stream < 65535 || stream > 2147483647) problems.add(at(path, 'initialStreamWindowSize'), `must be in [65535, 2147483647] (got ${stream})`);
    else out.initialStreamWindowSize = stream;
  }
  const conn = u32(h2, 'initialConnectionWindowSize', path, problems);
  if (conn !== undefined) {
    if (conn < 65535 || conn > 2147483647) problems.add(at(path, 'initialConnectionWindowSize'), `must be in [65535, 2147483647] (got ${conn})`);
    else out.initialConnectionWindowSize = conn;
  }
  return out;
}

type Protocol = HttpOptions['protocol'];

function compileTyped(o: Proto, path: string, problems: Problems): { protocol: Protocol; common: Common; h2: H2 } {
  const common = compileCommon(message(o, 'commonHttpProtocolOptions', path, problems), at(path, 'commonHttpProtocolOptions'), problems);
  if (list(o, 'httpFilters', path, problems).length > 0) problems.add(at(path, 'httpFilters'), 'upstream HTTP filters are not supported');
  if (has(o, 'explicitHttpConfig')) {
    const e = message(o, 'explicitHttpConfig', path, problems);
    const ep = at(path, 'explicitHttpConfig');
    if (has(e, 'http3ProtocolOptions')) problems.add(at(ep, 'http3ProtocolOptions'), 'HTTP/3 upstreams are not supported');
    if (has(e, 'http2ProtocolOptions')) return { protocol: 'http2', common, h2: compileH2(message(e, 'http2ProtocolOptions', ep, problems), at(ep, 'http2ProtocolOptions'), problems) };
    return { protocol: 'http1', common, h2: {} };
  }
  if (has(o, 'useDownstreamProtocolConfig')) {
    const d = message(o, 'useDownstreamProtocolConfig', path, problems);
    const dp = at(path, 'useDownstreamProtocolConfig');
    if (has(d, 'http3ProtocolOptions')) problems.add(at(dp, 'http3ProtocolOptions'), 'HTTP/3 upstreams are not supported');
    return { protocol: 'downstream', common, h2: compileH2(message(d, 'http2ProtocolOptions', dp, problems), at(dp, 'http2ProtocolOptions'), problems) };
  }
  if (has(o, 'autoConfig')) {
    // ALPN decides between HTTP/1.1 and HTTP/2, which needs TLS; plaintext upstreams get HTTP/1.1, as in Envoy.
    const a = message(o, 'autoConfig', path, problems);
    const ap = at(path, 'autoConfig');
    if (has(a, 'http3ProtocolOptions')) problems.add(at(ap, 'http3ProtocolOptions'), 'HTTP/3 upstreams are not supported');
    return { protocol: 'http1', common, h2: compileH2(message(a, 'http2ProtocolOptions', ap, problems), at(ap, 'http2ProtocolOptions'), problems) };
  }
  problems.add(path, 'one of explicit_http_config, use_downstream_protocol_config, auto_config is required');
  return { protocol: 'http1', common, h2: {} };
}

function compileLegacy(cluster: Proto, problems: Problems): { protocol: Protocol; common: Common; h2: H2 } {
  const common = compileCommon(message(cluster, 'commonHttpProtocolOptions', '', problems), 'commonHttpProtocolOptions', problems);
  const maxRequests = u32(cluster, 'maxRequestsPerConnection', '', problems);
  if (maxRequests !== undefined && maxRequests > 0) common.maxRequestsPerConnection = maxRequests;
  const h2 = has(cluster, 'http2ProtocolOptions') ? compileH2(message(cluster, 'http2ProtocolOptions', '', problems), 'http2ProtocolOptions', problems) : undefined;
  const downstream = cluster['protocolSelection'] === 'USE_DOWNSTREAM_PROTOCOL' || cluster['protocolSelection'] === 1;
  return { protocol: downstream ? 'downstream' : h2 !== undefined ? 'http2' : 'http1', common, h2: h2 ?? {} };
}

const LEGACY_FIELDS = ['http2ProtocolOptions', 'commonHttpProtocolOptions', 'httpProtocolOptions', 'protocolSelection', 'maxRequestsPerConnection'];

/** The cluster's typed protocol options entry for HTTP, or undefined; other entries are problems. */
function typedOptions(cluster: Proto, problems: Problems): { value: Proto; path: string } | undefined {
  const all = obj(cluster['typedExtensionProtocolOptions']) ?? {};
  let found: { value: Proto; path: string } | undefined;
  for (const [key, raw] of Object.entries(all)) {
    const path = at('typedExtensionProtocolOptions', key);
    if (key !== HTTP_PROTOCOL_OPTIONS && key !== HTTP_PROTOCOL_OPTIONS_URL) {
      problems.add(path, `unknown protocol options ${JSON.stringify(key)} (supported: ${HTTP_PROTOCOL_OPTIONS})`);
      continue;
    }
    const type = anyType(raw);
    if (type !== HTTP_PROTOCOL_OPTIONS_URL) {
      problems.add(path, `expected a ${HTTP_PROTOCOL_OPTIONS} (got ${JSON.stringify(type)})`);
      continue;
    }
    found = { value: obj(raw) ?? {}, path };
  }
  return found;
}

export function compileHttpOptions(cluster: Proto, problems: Problems): HttpOptions {
  const typed = typedOptions(cluster, problems);
  const legacySet = LEGACY_FIELDS.filter((f) => has(cluster, f) && !(f === 'protocolSelection' && (cluster[f] === 'USE_CONFIGURED_PROTOCOL' || cluster[f] === 0)));
  if (typed !== undefined && legacySet.length > 0) {
    problems.add(legacySet[0]!, `cannot be combined with typed_extension_protocol_options[${HTTP_PROTOCOL_OPTIONS}]`);
  }
  const { protocol, common, h2 } = typed !== undefined ? compileTyped(typed.value, typed.path, problems) : compileLegacy(cluster, problems);
  return {
    protocol,
    idleTimeoutMs: common.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    maxRequestsPerConnection: common.maxRequestsPerConnection,
    maxConnectionDurationMs: common.maxConnectionDurationMs,
    maxConcurrentStreams: h2.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
    initialStreamWindowSize: h2.initialStreamWindowSize,
    initialConnectionWindowSize: h2.initialConnectionWindowSize,
  };
}
