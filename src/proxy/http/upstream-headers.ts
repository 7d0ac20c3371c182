/**
 * Headers crossing the proxy: the upstream request's header list (undici's flat `[name, value, …]`
 * form, built once per request and reused by retries) without hop-by-hop fields (RFC 9110 §7.6.1),
 * pseudo-headers, the x-envoy-* headers the router consumes, and with Host set to the (rewritten)
 * authority; the downstream response's headers without hop-by-hop fields; and route header mutations
 * applied to either side, with Envoy's `%COMMAND%` values evaluated for this stream.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { hostname } from 'node:os';
import type { ConnectionFacts } from './filter-stream.ts';
import { connectionTokens, isHopByHop, isTeTrailers, joinedValue, type HeaderMap } from './headers.ts';
import { CONSUMED_REQUEST_HEADERS } from './retry-state.ts';
import type { FormatCommand } from './router/header-format.ts';
import { formatStartTime } from './router/start-time.ts';
import type { MutableHeaders } from './router/header-mutations.ts';
import type { StreamInfo } from './stream-info.ts';

const CONSUMED = new Set(CONSUMED_REQUEST_HEADERS);

/** Route mutations on request headers (Node's header object, edited in place; removal writes undefined). */
export class RequestHeaderEditor implements MutableHeaders {
  readonly #h: HeaderMap;
  constructor(h: HeaderMap) {
    this.#h = h;
  }
  has(name: string): boolean {
    return this.#h[name] !== undefined;
  }
  set(name: string, value: string): void {
    this.#h[name] = value;
  }
  append(name: string, value: string): void {
    const cur = this.#h[name];
    this.#h[name] = cur === undefined ? value : Array.isArray(cur) ? [...cur, value] : [cur, value];
  }
  remove(name: string): void {
    if (this.#h[name] !== undefined) this.#h[name] = undefined;
  }
}

/** Route mutations on response headers. */
export class ResponseHeaderEditor implements MutableHeaders {
  readonly #h: OutgoingHttpHeaders;
  constructor(h: OutgoingHttpHeaders) {
    this.#h = h;
  }
  has(name: string): boolean {
    return this.#h[name] !== undefined;
  }
  set(name: string, value: string): void {
    this.#h[name] = value;
  }
  append(name: string, value: string): void {
    const cur = this.#h[name];
    this.#h[name] = cur === undefined ? value : Array.isArray(cur) ? [...cur, value] : [String(cur), value];
  }
  remove(name: string): void {
    if (this.#h[name] !== undefined) delete this.#h[name];
  }
}

/**
 * The upstream request's headers. `te: trailers` survives (gRPC needs it); `expect` is dropped because
 * the downstream codec already answered `100-continue`.
 */
export function upstreamRequestHeaders(headers: HeaderMap, authority: string): string[] {
  const out: string[] = [];
  const listed = headers['connection'] === undefined ? undefined : connectionTokens(headers['connection']);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || name.charCodeAt(0) === 0x3a /* : */ || name === 'host' || name === 'expect') continue;
    if (isHopByHop(name)) {
      if (name === 'te' && isTeTrailers(value)) out.push('te', 'trailers');
      continue;
    }
    if (CONSUMED.has(name) || (listed !== undefined && listed.includes(name))) continue;
    if (Array.isArray(value)) {
      for (const v of value) out.push(name, v);
    } else {
      out.push(name, value);
    }
  }
  out.push('host', authority);
  return out;
}

/** The response headers to send downstream (hop-by-hop fields removed; `keepUpgrade` for a 101). */
export function downstreamResponseHeaders(upstream: IncomingHttpHeaders, keepUpgrade: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = upstream['connection'] === undefined ? undefined : connectionTokens(upstream['connection']);
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined) continue;
    if (isHopByHop(name) && !(keepUpgrade && (name === 'upgrade' || name === 'connection'))) continue;
    if (listed !== undefined && listed.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Trailers as received, without fields that may not appear in trailers' framing role. */
export function trailersOf(upstream: IncomingHttpHeaders): OutgoingHttpHeaders | undefined {
  let out: OutgoingHttpHeaders | undefined;
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || isHopByHop(name) || name === 'content-length') continue;
    (out ??= {})[name] = value;
  }
  return out;
}

/** The machine's name, as Envoy's `%HOSTNAME%` gives it (gethostname, not the environment). */
const HOSTNAME = hostname();

/** Envoy's header formatter commands that weft evaluates; others are empty. */
export function headerCommands(info: StreamInfo, conn: ConnectionFacts, headers: HeaderMap): (c: FormatCommand) => string {
  return (c) => {
    switch (c.name) {
      case 'DOWNSTREAM_REMOTE_ADDRESS': case 'DOWNSTREAM_DIRECT_REMOTE_ADDRESS': return `${conn.remoteAddress}:${conn.remotePort}`;
      case 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT': case 'DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT': return conn.remoteAddress;
      case 'DOWNSTREAM_REMOTE_PORT': case 'DOWNSTREAM_DIRECT_REMOTE_PORT': return String(conn.remotePort);
      case 'DOWNSTREAM_LOCAL_ADDRESS': return `${conn.localAddress}:${conn.localPort}`;
      case 'DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT': return conn.localAddress;
      case 'DOWNSTREAM_LOCAL_PORT': return String(conn.localPort);
      case 'REQ': return joinedValue(headers, c.arg.split('?')[0]!.toLowerCase()) ?? '';
      case 'PROTOCOL': return info.protocol;
      case 'UPSTREAM_CLUSTER': return info.cluster;
      case 'UPSTREAM_HOST': case 'UPSTREAM_REMOTE_ADDRESS': return info.upstreamHost;
      case 'UPSTREAM_REQUEST_ATTEMPT_COUNT': return String(info.attempts);
      case 'ROUTE_NAME': return info.routeName;
      case 'RESPONSE_CODE': return String(info.responseCode);
      case 'RESPONSE_FLAGS': return '';
      case 'START_TIME': return formatStartTime(info.startEpochMs, c.arg);
      case 'HOSTNAME': return HOSTNAME;
      case 'UNIQUE_ID': return info.requestId;
      default: return '';
    }
  };
}
