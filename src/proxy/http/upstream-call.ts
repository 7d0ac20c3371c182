/**
 * A routed request on its way to a cluster (the heart of Envoy's router filter): picks a host (with the
 * route's hash, avoiding hosts already tried when the retry policy says so), checks the circuit breaker,
 * dispatches tries through the host's undici dispatcher, streams the response downstream, retries per
 * the retry policy with jittered back-off, and enforces the route and per-try timeouts. Every failure
 * before the response started becomes a local reply naming the cause and the cluster (UH, UO, UF, UC,
 * UT, with URX when retries ran out); after it started, the downstream stream is reset.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { randomBytes } from '../core/random.ts';
import type { ClusterHandle, UpstreamHost } from '../core/contracts.ts';
import type { ActiveStream } from './active-stream.ts';
import { clusterStats, type ClusterStats } from './cluster-stats.ts';
import { authorityWithPort, firstValue, isTeTrailers } from './headers.ts';
import type { LocalReply } from './local-reply.ts';
import type { RequestBody } from './request-body.ts';
import { RetryState } from './retry-state.ts';
import { applyHeaderMutations } from './router/header-mutations.ts';
import { mintedCookieValue, requestHash, setCookieValue, type CookieHashPolicy } from './router/hash-policy.ts';
import type { RouteDecision } from './router/types.ts';
import { RouteRequestView } from './route-request.ts';
import { FLAG } from './stream-info.ts';
import { computeTimeouts, type CallTimeouts } from './timeouts.ts';
import { classifyFailure, describeFailure, overflowReply, UpstreamAttempt, type AttemptOwner } from './upstream-attempt.ts';
import { downstreamResponseHeaders, headerCommands, RequestHeaderEditor, ResponseHeaderEditor, trailersOf, upstreamRequestHeaders } from './upstream-headers.ts';
import { addressString } from '../core/address.ts';

export interface RouterSettings {
  /** `suppress_envoy_headers`: no x-envoy-upstream-service-time, x-envoy-expected-rq-timeout-ms… */
  readonly suppressEnvoyHeaders: boolean;
}

/** Envoy's default retry buffer: the connection buffer limit (1 MiB) when the route sets none. */
const DEFAULT_RETRY_BUFFER = 1024 * 1024;

/**
 * A try timed out waiting for response headers: the host's outlier detection hears it (the pool sees
 * only the abort), as Envoy's router reports LocalOriginTimeout — once the request had reached a
 * connection (before that, the host was never really tried).
 */
function reportTimeout(a: UpstreamAttempt): void {
  if (a.started) a.host.outlier?.putResult('timeout');
}

export class UpstreamCall implements AttemptOwner {
  readonly #s: ActiveStream;
  readonly #d: RouteDecision;
  readonly #cluster: ClusterHandle;
  readonly #stats: ClusterStats;
  readonly #settings: RouterSettings;
  readonly #retry: RetryState | undefined;
  readonly #timeouts: CallTimeouts;
  readonly #body: RequestBody | undefined;
  readonly #hash: number | undefined;
  readonly #startMs = performance.now();
  #headers: string[] = [];
  #attemptSlot = -1;
  #hostSlot = -1;
  #attempt: UpstreamAttempt | undefined;
  #tried: Set<UpstreamHost> | undefined;
  #globalTimer: NodeJS.Timeout | undefined;
  #tryTimer: NodeJS.Timeout | undefined;
  #backoffTimer: NodeJS.Timeout | undefined;
  #committed = false;
  #over = false;
  /** A gRPC trailers-only response's head, held until we know whether a body follows. */
  #held: { status: number; headers: OutgoingHttpHeaders } | undefined;
  /** The upstream status counted at commit. */
  #committedStatus = 0;
  /** `set-cookie` values of cookies the hash policy minted, for the response. */
  #setCookies: string[] | undefined;

  constructor(stream: ActiveStream, d: RouteDecision, cluster: ClusterHandle, settings: RouterSettings) {
    this.#s = stream;
    this.#d = d;
    this.#cluster = cluster;
    this.#stats = clusterStats(cluster);
    this.#settings = settings;
    const headers = stream.request.headers;
    this.#timeouts = computeTimeouts(d.forward.timeouts, d.forward.retryPolicy, headers, stream.isGrpc);
    this.#retry = RetryState.create(d.forward.retryPolicy, stream.request);
    this.#body = stream.requestBody(this.#retry !== undefined ? (d.route.bufferLimitBytes ?? DEFAULT_RETRY_BUFFER) : 0);
    // Only a hashing load balancer reads the hash (Envoy's computeHashKey): no hash, no minted cookie, elsewhere.
    this.#hash = d.forward.hashPolicy.length > 0 && cluster.usesHash ? requestHash(d.forward.hashPolicy, new RouteRequestView(stream), (p) => this.#mintCookie(p)) : undefined;
    stream.info.cluster = cluster.name;
  }

  /** A cookie policy's cookie is missing: mint it from the connection and send it back with the response. */
  #mintCookie(p: CookieHashPolicy): string {
    const c = this.#s.connection;
    const value = mintedCookieValue(addressString(c.remoteAddress, c.remotePort), addressString(c.localAddress, c.localPort));
    (this.#setCookies ??= []).push(setCookieValue(p, value));
    return value;
  }

  /** Adds the minted cookies to a response's headers, after the upstream's own (Envoy's order). */
  #addSetCookies(out: OutgoingHttpHeaders): void {
    const minted = this.#setCookies;
    if (minted === undefined) return;
    const own = out['set-cookie'];
    out['set-cookie'] = own === undefined ? minted : [...(Array.isArray(own) ? own : [String(own)]), ...minted];
  }

  start(): void {
    const idle = this.#d.forward.timeouts.idleMs;
    if (idle !== undefined) this.#s.setIdleTimeout(idle);
    this.#buildHeaders();
    if (this.#body === undefined) this.#startGlobalTimer();
    else this.#body.onEnd(() => this.#startGlobalTimer());
    this.#attemptNow();
  }

  #buildHeaders(): void {
    const s = this.#s;
    const d = this.#d;
    const h = s.request.headers;
    const suppress = this.#settings.suppressEnvoyHeaders;
    if (d.target.requestHeaders.length > 0) applyHeaderMutations(d.target.requestHeaders, new RequestHeaderEditor(h), headerCommands(s.info, s.connection, h));
    if (d.path !== undefined && !suppress) h['x-envoy-original-path'] = s.request.path;
    if (d.authority !== undefined && d.forward.appendXForwardedHost) {
      const xfh = firstValue(h, 'x-forwarded-host');
      h['x-forwarded-host'] = xfh === undefined ? s.request.authority : `${xfh},${s.request.authority}`;
    }
    const expected = this.#timeouts.perTryMs > 0 ? this.#timeouts.perTryMs : this.#timeouts.globalMs;
    if (!suppress && expected > 0) h['x-envoy-expected-rq-timeout-ms'] = String(expected);
    const out = upstreamRequestHeaders(h, d.authority ?? s.request.authority);
    this.#hostSlot = out.length - 1;
    if (d.virtualHost.includeRequestAttemptCount) {
      out.push('x-envoy-attempt-count', '1');
      this.#attemptSlot = out.length - 1;
    }
    this.#headers = out;
  }

  #startGlobalTimer(): void {
    const ms = this.#timeouts.globalMs;
    if (ms <= 0 || this.#over || this.#globalTimer !== undefined) return;
    this.#globalTimer = setTimeout(() => this.#onGlobalTimeout(), ms);
  }

  #pick(): UpstreamHost | undefined {
    const avoid = this.#tried !== undefined && this.#retry?.avoidPreviousHosts === true ? this.#tried : undefined;
    const originalDestination = authorityWithPort(this.#s.request.authority, this.#s.request.scheme);
    const host = this.#cluster.pick({ hash: this.#hash, exclude: avoid, originalDestination });
    // Every host already tried: any host is better than none (Envoy gives up on the predicate after its attempts).
    return host ?? (avoid !== undefined ? this.#cluster.pick({ hash: this.#hash, originalDestination }) : undefined);
  }

  #attemptNow(): void {
    this.#backoffTimer = undefined;
    if (this.#over) return;
    const name = this.#cluster.name;
    if (!this.#cluster.admit()) {
      this.#fail(overflowReply(name, this.#settings.suppressEnvoyHeaders));
      return;
    }
    const host = this.#pick();
    if (host === undefined) {
      this.#stats.cxNoneHealthy.value++;
      this.#fail({ status: 503, flags: FLAG.UH, details: 'no_healthy_upstream', cause: `no healthy upstream in ${name}` });
      return;
    }
    this.#dispatch(host);
  }

  #dispatch(host: UpstreamHost): void {
    const s = this.#s;
    const info = s.info;
    info.attempts++;
    info.upstreamHost = host.addressString ?? `${host.address}:${host.port}`;
    if (this.#attemptSlot >= 0) this.#headers[this.#attemptSlot] = String(info.attempts);
    if (this.#d.forward.hostRewrite?.kind === 'auto' && isIP(host.address) === 0) this.#headers[this.#hostSlot] = host.address;
    // HTTP/1.0 without Host: the upstream gets the host's own address as its Host.
    else if (this.#headers[this.#hostSlot] === '') this.#headers[this.#hostSlot] = `${host.address}:${host.port}`;
    const attempt = new UpstreamAttempt(this, host);
    this.#attempt = attempt;
    if (this.#timeouts.perTryMs > 0) this.#tryTimer = setTimeout(() => this.#onTryTimeout(attempt), this.#timeouts.perTryMs);
    try {
      this.#cluster.dispatcher(host).dispatch(this.#options(), attempt);
    } catch (err) {
      attempt.done = true;
      this.onError(attempt, err as Error);
    }
  }

  #options(): Dispatcher.DispatchOptions {
    const s = this.#s;
    const websocket = s.down.upgrade === 'websocket';
    const headers = this.#headers;
    if (websocket && s.down.protocol === 'HTTP/2' && s.info.attempts === 1 && firstValue(s.request.headers, 'sec-websocket-key') === undefined) {
      // RFC 8441 → RFC 6455: an HTTP/1.1 WebSocket handshake needs a key the HTTP/2 client never sent.
      headers.push('sec-websocket-key', randomBytes(16).toString('base64'));
      if (firstValue(s.request.headers, 'sec-websocket-version') === undefined) headers.push('sec-websocket-version', '13');
    }
    return {
      path: this.#d.path ?? s.request.path,
      method: websocket ? 'GET' : s.request.method,
      headers,
      body: this.#body?.reader() ?? null,
      headersTimeout: 0,
      bodyTimeout: 0,
      ...(s.down.upgrade !== undefined ? { upgrade: s.down.upgrade } : {}),
    };
  }

  #canRetry(): boolean {
    const r = this.#retry;
    return r !== undefined && r.remaining > 0 && (this.#body === undefined || this.#body.replayable) && !this.#s.done;
  }

  /** Gives up on `attempt` and schedules the next try after the back-off. */
  #retryAfter(attempt: UpstreamAttempt): void {
    const r = this.#retry!;
    r.consume();
    this.#stats.rqRetry.value++;
    attempt.abandon();
    this.#clearTryTimer();
    (this.#tried ??= new Set()).add(attempt.host);
    this.#attempt = undefined;
    this.#backoffTimer = setTimeout(() => this.#attemptNow(), r.nextBackoffMs());
  }

  /** Ends the call with a local reply; `exhausted` adds URX (the failure was retriable, but retries ran out). */
  #fail(reply: LocalReply, exhausted = false): void {
    if (this.#over) return;
    const flags = exhausted ? reply.flags | FLAG.URX : reply.flags;
    if (exhausted) this.#stats.rqRetryLimitExceeded.value++;
    this.#stats.status(reply.status);
    const cause = exhausted && reply.cause !== undefined ? `${reply.cause} (retries exhausted after ${this.#s.info.attempts} attempts)` : reply.cause;
    this.#s.sendLocalReply({ ...reply, flags, ...(cause !== undefined ? { cause } : {}) });
    this.cancel();
  }

  onHeaders(a: UpstreamAttempt, status: number, headers: IncomingHttpHeaders): void {
    if (a !== this.#attempt || this.#over) {
      a.abandon();
      return;
    }
    this.#clearTryTimer();
    const r = this.#retry;
    let exhausted = false;
    if (r !== undefined && r.retriableResponse(status, headers)) {
      if (this.#canRetry()) {
        this.#retryAfter(a);
        return;
      }
      exhausted = true;
    }
    this.#commit(status, headers, exhausted);
  }

  #commit(status: number, headers: IncomingHttpHeaders, exhausted: boolean): void {
    const s = this.#s;
    this.#committed = true;
    this.#body?.stopRetaining();
    if (exhausted) {
      s.info.setFlag(FLAG.URX);
      this.#stats.rqRetryLimitExceeded.value++;
    } else if (s.info.attempts > 1) {
      this.#stats.rqRetrySuccess.value++;
    }
    this.#stats.status(status);
    this.#committedStatus = status;
    const out = downstreamResponseHeaders(headers, false);
    this.#addSetCookies(out);
    const d = this.#d;
    if (d.target.responseHeaders.length > 0) applyHeaderMutations(d.target.responseHeaders, new ResponseHeaderEditor(out), headerCommands(s.info, s.connection, s.request.headers));
    if (!this.#settings.suppressEnvoyHeaders) out['x-envoy-upstream-service-time'] = String(Math.round(performance.now() - this.#startMs));
    if (d.virtualHost.includeAttemptCountInResponse) out['x-envoy-attempt-count'] = String(s.info.attempts);
    if (s.isGrpc && headers['grpc-status'] !== undefined) {
      // gRPC's Trailers-Only form (status in the headers): hold it, so it goes out as one HEADERS frame
      // with END_STREAM if no body follows, as grpc clients require.
      this.#held = { status, headers: out };
      return;
    }
    if (s.isGrpc || headers['trailer'] !== undefined || isTeTrailers(s.request.headers['te'])) s.down.expectTrailers();
    s.encodeHeaders(status, out, false);
  }

  #flushHeld(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    this.#s.down.expectTrailers();
    this.#s.encodeHeaders(held.status, held.headers, false);
  }

  onData(a: UpstreamAttempt, chunk: Buffer): void {
    const s = this.#s;
    if (a !== this.#attempt || s.done) {
      a.abandon();
      return;
    }
    this.#flushHeld();
    if (!s.encodeData(chunk) && !a.paused) {
      a.pause();
      s.down.onDrain(() => a.resume());
    }
  }

  onEnd(a: UpstreamAttempt, trailers: IncomingHttpHeaders): void {
    if (a !== this.#attempt) return;
    this.#attempt = undefined;
    const held = this.#held;
    if (held !== undefined) {
      this.#held = undefined;
      Object.assign(held.headers, trailersOf(trailers));
      this.#s.encodeHeaders(held.status, held.headers, true);
    } else {
      this.#s.encodeEnd(trailersOf(trailers));
    }
    this.cancel();
  }

  onError(a: UpstreamAttempt, err: Error): void {
    if (a !== this.#attempt || this.#over) return;
    this.#clearTryTimer();
    this.#attempt = undefined;
    if (this.#s.down.closed) {
      // The client went away (its request body errored first): that is DC, not an upstream failure.
      this.cancel();
      return;
    }
    if (this.#committed) {
      if (this.#held !== undefined || this.#s.retractResponse()) {
        // Nothing of the response reached the client (a held gRPC head, or an HTTP/1 head still
        // waiting for its first body bytes, when bad framing followed it in the same read): answer
        // with the local reply a failure before any response gets, not a bare reset.
        this.#held = undefined;
        // One request, one response code: the upstream's, counted at commit, gives way to the local reply's.
        this.#stats.uncount(this.#committedStatus);
        this.#fail(describeFailure(classifyFailure(err, true), a.host, this.#cluster.name, err, this.#stats));
        return;
      }
      // The response already started: all we can do is reset the downstream stream.
      this.#stats.rqRxReset.value++;
      this.#s.info.setFlag(FLAG.UC);
      this.#s.resetStream();
      this.cancel();
      return;
    }
    const kind = classifyFailure(err, a.started);
    const failure = describeFailure(kind, a.host, this.#cluster.name, err, this.#stats);
    if (this.#retry?.retriableReset(kind, a.started) === true) {
      if (this.#canRetry()) {
        this.#retryAfter(a);
        return;
      }
      this.#fail(failure, true);
      return;
    }
    this.#fail(failure);
  }

  onInternalError(_a: UpstreamAttempt, err: unknown): void {
    if (this.#over) return;
    this.#attempt = undefined;
    if (this.#committed) {
      this.#s.resetStream();
      this.cancel();
      return;
    }
    this.#fail({ status: 500, flags: 0, details: 'internal_error', cause: `internal error forwarding to ${this.#cluster.name}: ${(err as Error)?.message ?? String(err)}` });
  }

  onUpgrade(a: UpstreamAttempt, status: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    const s = this.#s;
    if (a !== this.#attempt || this.#over) {
      socket.destroy();
      return;
    }
    // The try is complete: the socket now belongs to the tunnel, and nothing may abort it.
    a.done = true;
    this.#attempt = undefined;
    this.#clearTimers();
    this.#committed = true;
    this.#stats.status(status);
    const out: OutgoingHttpHeaders = downstreamResponseHeaders(headers, s.down.protocol !== 'HTTP/2');
    if (s.down.protocol === 'HTTP/2') delete out['sec-websocket-accept'];
    this.#addSetCookies(out);
    s.acceptTunnel(status, out, socket);
    this.cancel();
  }

  #onGlobalTimeout(): void {
    this.#globalTimer = undefined;
    if (this.#over) return;
    this.#stats.rqTimeout.value++;
    const a = this.#attempt;
    if (a !== undefined && !a.responded) reportTimeout(a);
    this.#attempt?.abandon();
    this.#attempt = undefined;
    if (this.#committed) {
      this.#s.info.setFlag(FLAG.UT);
      this.#s.resetStream();
      this.cancel();
      return;
    }
    this.#fail({ status: 504, flags: FLAG.UT, details: 'upstream_response_timeout', cause: `upstream request timeout in ${this.#cluster.name}` });
  }

  #onTryTimeout(a: UpstreamAttempt): void {
    this.#tryTimer = undefined;
    if (a !== this.#attempt || this.#over || this.#committed) return;
    this.#stats.rqPerTryTimeout.value++;
    reportTimeout(a);
    if (this.#retry?.retriableReset('timeout', a.started) === true && this.#canRetry()) {
      this.#retryAfter(a);
      return;
    }
    a.abandon();
    this.#attempt = undefined;
    const exhausted = this.#retry?.retriableReset('timeout', a.started) === true;
    this.#fail({ status: 504, flags: FLAG.UT, details: 'upstream_per_try_timeout', cause: `upstream request timeout in ${this.#cluster.name} (per-try timeout)` }, exhausted);
  }

  #clearTryTimer(): void {
    if (this.#tryTimer !== undefined) clearTimeout(this.#tryTimer);
    this.#tryTimer = undefined;
  }

  #clearTimers(): void {
    this.#clearTryTimer();
    if (this.#globalTimer !== undefined) clearTimeout(this.#globalTimer);
    if (this.#backoffTimer !== undefined) clearTimeout(this.#backoffTimer);
    this.#globalTimer = undefined;
    this.#backoffTimer = undefined;
  }

  /** Stops everything (stream over: complete, replied, reset or abandoned by the client). Idempotent. */
  cancel(): void {
    if (this.#over) return;
    this.#over = true;
    this.#clearTimers();
    const a = this.#attempt;
    this.#attempt = undefined;
    if (a !== undefined && !a.done) {
      this.#stats.rqTxReset.value++;
      a.abandon();
    }
  }
}
