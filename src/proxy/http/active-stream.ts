/**
 * One HTTP request/response through the connection manager (Envoy's ActiveStream): checks the request
 * (header count, path), applies the HCM's header mutations, runs the HTTP filter chain's decode hooks in
 * order (pausing on promises), lets the terminal filter (router) produce the response, runs encode hooks
 * in reverse, sends local replies, enforces the stream idle timeout, and on completion counts the
 * response and hands the StreamInfo to the access log. Nothing here throws into the event loop: a
 * failing hook becomes a 500 local reply.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClusterManager } from '../core/contracts.ts';
import type { Downstream, DownstreamListener } from './downstream.ts';
import { STOP, type HttpFilter } from './filter.ts';
import type { ConnectionFacts, FilterStream, RequestHead, ResponseHead } from './filter-stream.ts';
import type { FilterSlot, HcmConfig } from './hcm-config.ts';
import type { HcmStats } from './hcm-stats.ts';
import { firstValue } from './headers.ts';
import { grpcFrame, httpFrame, isGrpcContentType, type LocalReply } from './local-reply.ts';
import { hasEscapedSlash, normalizePath, unescapeSlashes } from './path-normalization.ts';
import { mutateRequestHeaders, requestId, type RequestClass } from './request-headers.ts';
import { RequestBody } from './request-body.ts';
import { RouteRequestView } from './route-request.ts';
import type { ClusterTarget, CompiledRoutes, Decision } from './router/types.ts';
import { FLAG, StreamInfo } from './stream-info.ts';
import { splice } from './tunnel.ts';

/** What every stream of one HCM config shares. */
export interface HcmRuntime {
  readonly config: HcmConfig;
  readonly stats: HcmStats;
  readonly clusters: ClusterManager;
  readonly filters: readonly FilterSlot[];
  readonly makers: readonly (() => HttpFilter)[];
  /** The route configuration in force (inline, or the RDS resource), undefined while it has not arrived. */
  routes(): CompiledRoutes | undefined;
  readonly selectRoute: (routes: CompiledRoutes, request: RouteRequestView) => Decision;
  readonly accessLog: ((info: StreamInfo) => void) | undefined;
}

const NO_DECISION: Decision = { kind: 'no_virtual_host' };

/** The mutations and per-filter configs that apply to a decision (the routed target, or the route's own). */
export function targetOf(d: Decision): ClusterTarget | undefined {
  switch (d.kind) {
    case 'route': return d.target;
    case 'redirect': return d.route?.target;
    case 'direct_response': case 'non_forwarding': return d.route.target;
    default: return undefined;
  }
}

export class ActiveStream implements FilterStream, DownstreamListener {
  readonly request: RequestHead;
  readonly info = new StreamInfo();
  readonly connection: ConnectionFacts;
  readonly isGrpc: boolean;
  readonly down: Downstream;
  readonly rt: HcmRuntime;
  /** Internal or external, edge or not (set once the HCM mutated the request headers). */
  requestClass: RequestClass = { internal: false, edge: false };
  #filters: HttpFilter[] = [];
  #current = 0;
  #decision: Decision | undefined;
  #routes: CompiledRoutes | undefined;
  #body: RequestBody | undefined;
  #done = false;
  #destroyed = false;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(rt: HcmRuntime, down: Downstream, connection: ConnectionFacts) {
    this.rt = rt;
    this.down = down;
    this.connection = connection;
    this.request = {
      method: down.method,
      authority: down.authority,
      path: down.path,
      scheme: connection.tls ? 'https' : 'http',
      protocol: down.protocol,
      headers: down.headers,
    };
    this.isGrpc = isGrpcContentType(firstValue(down.headers, 'content-type'));
    const info = this.info;
    info.protocol = down.protocol;
    info.method = down.method;
    info.authority = down.authority;
    info.path = down.path;
    info.downstreamRemote = `${connection.remoteAddress}:${connection.remotePort}`;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Runs the stream; called once by the connection manager. Never throws. */
  start(): void {
    const s = this.rt.stats;
    s.rqTotal.value++;
    s.rqActive.value++;
    (this.down.protocol === 'HTTP/2' ? s.rqHttp2Total : s.rqHttp1Total).value++;
    this.down.attach(this);
    try {
      if (!this.#checkRequest()) return;
      this.#routes = this.rt.routes();
      this.requestClass = mutateRequestHeaders(this.rt.config, this.request, this.connection, this.#routes?.internalOnlyHeaders ?? []);
      this.info.requestId = requestId(this.request.headers);
      if (!this.#checkUpgrade()) return;
      this.#startIdleTimer();
      this.#filters = this.rt.makers.map((make) => make());
      this.#decode(0);
    } catch (err) {
      this.#filterFailed(err);
    }
  }

  #checkRequest(): boolean {
    const c = this.rt.config;
    const d = this.down;
    if (d.headerCount > c.maxHeadersCount) {
      this.rt.stats.rqTooLarge.value++;
      this.sendLocalReply({ status: 431, flags: FLAG.DPE, details: 'too_many_headers', cause: `too many request headers (${d.headerCount}, at most ${c.maxHeadersCount})` });
      return false;
    }
    if (d.connect) return true;
    const path = d.path;
    if (path.charCodeAt(0) !== 0x2f || (d.absoluteForm && !c.allowAbsoluteUrl)) {
      // Envoy serves only paths (and `OPTIONS *` is not one): an absolute-form target reaches the
      // connection manager whole where the listener does not take proxy requests.
      this.rt.stats.rqNonRelativePath.value++;
      const what = d.absoluteForm ? 'an absolute-form request target, which this listener does not take (allow_absolute_url)' : `a request path that does not start with "/" ${JSON.stringify(path.slice(0, 100))}`;
      this.sendLocalReply({ status: 404, flags: 0, details: 'absolute_path_rejected', cause: what });
      return false;
    }
    return this.#normalizePath(path);
  }

  /**
   * The HCM's path settings, in Envoy's order (ConnectionManagerUtility::maybeNormalizePath): escaped
   * slashes, then canonicalization, then merged slashes. A path that cannot be normalized gets 400; one
   * whose escaped slashes are to be redirected gets 307 to the normalized path (400 for gRPC, whose
   * clients do not follow redirects).
   */
  #normalizePath(original: string): boolean {
    // A fragment is the client's own and never goes on the wire: Envoy refuses a path that carries one.
    if (original.includes('#')) return this.#pathRejected(original, 'a fragment in the request path');
    const c = this.rt.config;
    let path = original;
    let redirect = false;
    const escaped = c.pathWithEscapedSlashesAction;
    if (escaped !== 'KEEP_UNCHANGED' && hasEscapedSlash(path)) {
      if (escaped === 'REJECT_REQUEST') return this.#pathRejected(original, 'escaped slashes');
      redirect = escaped === 'UNESCAPE_AND_REDIRECT';
      path = unescapeSlashes(path);
    }
    const normalized = c.normalizePath || c.mergeSlashes ? normalizePath(path, c.normalizePath, c.mergeSlashes) : path;
    if (normalized === undefined) return this.#pathRejected(original, 'invalid request path');
    if (redirect) {
      if (this.isGrpc) return this.#pathRejected(original, 'escaped slashes (gRPC: no redirect)');
      this.rt.stats.rqRedirectedWithNormalizedPath.value++;
      this.sendLocalReply({ status: 307, flags: 0, details: 'path_normalization_failed', headers: { location: normalized } });
      return false;
    }
    this.request.path = normalized;
    return true;
  }

  #pathRejected(path: string, why: string): false {
    this.rt.stats.rqFailedPathNormalization.value++;
    this.sendLocalReply({ status: 400, flags: FLAG.DPE, details: 'path_normalization_failed', cause: `${why} ${JSON.stringify(path.slice(0, 100))}` });
    return false;
  }

  /** Upgrades and CONNECT need an `upgrade_configs` entry in the HCM (Envoy answers 403 otherwise). */
  #checkUpgrade(): boolean {
    const d = this.down;
    const type = d.connect ? 'connect' : d.upgrade;
    if (type === undefined) return true;
    if (type === 'h2c') {
      // Envoy ignores h2c upgrade requests and serves them as HTTP/1.1.
      for (const h of ['upgrade', 'http2-settings', 'connection']) this.request.headers[h] = undefined;
      return true;
    }
    if (this.rt.config.upgrades.has(type) || (d.connect && this.rt.config.allowConnect)) return true;
    this.rt.stats.rqWsOnNonWsRoute.value++;
    this.sendLocalReply({ status: 403, flags: 0, details: 'upgrade_failed', cause: `upgrade ${type} not allowed on this listener` });
    return false;
  }

  #decode(from: number): void {
    const filters = this.#filters;
    for (let i = from; i < filters.length; i++) {
      const f = filters[i]!;
      if (f.decodeHeaders === undefined || this.#skip(i)) continue;
      this.#current = i;
      let r;
      try {
        r = f.decodeHeaders(this);
      } catch (err) {
        this.#filterFailed(err);
        return;
      }
      if (r === STOP || this.#done) return;
      if (r !== undefined) {
        r.then((v) => {
          if (v !== STOP && !this.#done) this.#decode(i + 1);
        }, (err: unknown) => this.#filterFailed(err));
        return;
      }
    }
  }

  /** A filter disabled in the HCM runs only where a route enables it; any filter can be disabled per route. */
  #skip(i: number): boolean {
    const slot = this.rt.filters[i]!;
    const fc = targetOf(this.decision())?.perFilterConfig.get(slot.name);
    return fc === undefined ? slot.disabled : fc.disabled;
  }

  #filterFailed(err: unknown): void {
    this.sendLocalReply({ status: 500, flags: 0, details: 'filter_error', cause: `internal error in HTTP filter: ${(err as Error)?.message ?? String(err)}` });
  }

  /** The routing decision (computed once, on first use). */
  decision(): Decision {
    if (this.#decision !== undefined) return this.#decision;
    const routes = this.#routes;
    const d = routes === undefined ? NO_DECISION : this.rt.selectRoute(routes, new RouteRequestView(this));
    this.#decision = d;
    if (d.kind === 'route' || d.kind === 'redirect' || d.kind === 'direct_response' || d.kind === 'non_forwarding') this.info.routeName = d.route?.name ?? '';
    return d;
  }

  /** The name of the route configuration in force ('' while none arrived). */
  routesName(): string {
    return this.#routes?.name ?? (this.rt.config.routes.kind === 'rds' ? this.rt.config.routes.name : '');
  }

  clearRouteCache(): void {
    this.#decision = undefined;
  }

  routeCluster(): string | undefined {
    const d = this.decision();
    return d.kind === 'route' ? d.cluster : undefined;
  }

  perRouteConfig<R>(filterName: string): R | undefined {
    const fc = targetOf(this.decision())?.perFilterConfig.get(filterName);
    if (fc === undefined || fc.disabled) return undefined;
    const slot = this.rt.filters.find((s) => s.name === filterName);
    if (slot !== undefined && slot.factory.perRouteTypeUrls?.includes(fc.typeUrl) !== true) return undefined;
    return fc.compiled as R;
  }

  /** The request body reader source; `retainLimit` > 0 keeps that many bytes for retries. Created once. */
  requestBody(retainLimit: number): RequestBody | undefined {
    if (!this.down.hasBody) return undefined;
    if (this.#body === undefined) {
      this.#body = new RequestBody(this.down.body, retainLimit);
      if (this.#idleTimer !== undefined) this.#body.onActivity(() => this.#idleTimer?.refresh());
    }
    return this.#body;
  }

  sendLocalReply(reply: LocalReply): void {
    if (this.#done) return;
    if (this.down.headersSent) {
      this.info.setFlag(reply.flags);
      this.resetStream();
      return;
    }
    this.info.setFlag(reply.flags);
    this.info.details = reply.details;
    this.info.cause = reply.cause ?? '';
    const frame = this.isGrpc ? grpcFrame(reply) : httpFrame(reply, this.request.method === 'HEAD');
    const endStream = frame.body === undefined;
    this.#encodeHeaders({ status: frame.status, headers: frame.headers }, this.#current, endStream);
    if (!endStream) {
      this.down.write(typeof frame.body === 'string' ? Buffer.from(frame.body) : frame.body!);
      this.down.end();
    }
    this.#finish();
  }

  /** Response headers from the terminal filter: encode hooks of every filter before it, then the codec. */
  encodeHeaders(status: number, headers: OutgoingHttpHeaders, endStream: boolean): void {
    if (this.#done) return;
    this.info.details ||= 'via_upstream';
    this.#encodeHeaders({ status, headers }, this.#filters.length - 1, endStream);
    if (endStream) this.#finish();
  }

  encodeData(chunk: Buffer): boolean {
    if (this.#done) return true;
    this.info.bytesSent += chunk.length;
    this.#idleTimer?.refresh();
    return this.down.write(chunk);
  }

  encodeEnd(trailers?: OutgoingHttpHeaders): void {
    if (this.#done) return;
    this.down.end(trailers);
    this.#finish();
  }

  /** Accepts an upgrade or CONNECT: answers `status` and splices the downstream with `upstream`. */
  acceptTunnel(status: number, headers: OutgoingHttpHeaders, upstream: Duplex): void {
    if (this.#done) {
      upstream.destroy();
      return;
    }
    const tunnel = this.down.tunnel(status, headers);
    if (tunnel === undefined) {
      upstream.destroy();
      return;
    }
    this.info.responseCode = status;
    this.info.details ||= 'via_upstream';
    this.rt.stats.status(status);
    // The filters are done with this stream; it lives on as a byte tunnel until either side closes.
    this.#finish();
    splice(tunnel, upstream);
  }

  /**
   * Withdraws the response head when it has not reached the client yet (`Downstream.retractHead`), so
   * that a failure right behind it (the upstream's next bytes in the same read) can still be answered
   * with a local reply. True when it did.
   */
  retractResponse(): boolean {
    if (this.#done || !this.down.retractHead()) return false;
    this.rt.stats.uncountStatus(this.info.responseCode);
    this.info.responseCode = 0;
    return true;
  }

  /** Resets the downstream stream mid-response (upstream reset, timeout after headers). */
  resetStream(): void {
    if (this.#destroyed && this.down.closed) return;
    this.rt.stats.rqTxReset.value++;
    // Done first: the codec reports our own reset as an abort, which must not read as DC.
    this.#finish();
    this.down.reset();
  }

  #encodeHeaders(head: ResponseHead, before: number, endStream: boolean): void {
    const filters = this.#filters;
    for (let i = Math.min(before, filters.length) - 1; i >= 0; i--) {
      const f = filters[i]!;
      if (f.encodeHeaders === undefined) continue;
      try {
        f.encodeHeaders(this, head);
      } catch {
        // An encode hook that throws leaves the response as it was; the response still goes out.
      }
    }
    this.#finalizeResponseHeaders(head);
    this.info.responseCode = head.status;
    this.rt.stats.status(head.status);
    this.down.writeHead(head.status, head.headers, endStream);
  }

  #finalizeResponseHeaders(head: ResponseHead): void {
    const c = this.rt.config;
    const h = head.headers;
    if (c.serverHeader === 'OVERWRITE' || (c.serverHeader === 'APPEND_IF_ABSENT' && h['server'] === undefined)) h['server'] = c.serverName;
    if (c.alwaysSetRequestIdInResponse && this.info.requestId !== '') h['x-request-id'] = this.info.requestId;
  }

  #startIdleTimer(): void {
    const ms = this.rt.config.streamIdleTimeoutMs;
    if (ms <= 0) return;
    this.#idleTimer = setTimeout(() => this.#idleTimeout(), ms);
    this.#idleTimer.unref();
  }

  /** A route's `idle_timeout` replaces the HCM's stream idle timeout (0 disables it). */
  setIdleTimeout(ms: number): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (ms <= 0 || this.#done) return;
    this.#idleTimer = setTimeout(() => this.#idleTimeout(), ms);
    this.#idleTimer.unref();
    this.#body?.onActivity(() => this.#idleTimer?.refresh());
  }

  #idleTimeout(): void {
    this.#idleTimer = undefined;
    this.rt.stats.rqIdleTimeout.value++;
    this.sendLocalReply({ status: 408, flags: FLAG.SI, details: 'stream_idle_timeout', cause: 'stream idle timeout' });
  }

  /** The stream is over for the filters (answered, reset or abandoned): they stop and release. */
  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#body?.discard();
    this.#destroyFilters();
  }

  #destroyFilters(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const f of this.#filters) {
      try {
        f.onDestroy?.(this);
      } catch {
        // Cleanup failures must not stop the other filters' cleanup.
      }
    }
  }

  /** The codec's report that the client went away before the response completed (DC). */
  downstreamAborted(): void {
    if (this.#done) return;
    this.info.setFlag(FLAG.DC);
    this.info.details ||= 'downstream_remote_disconnect';
    this.rt.stats.rqRxReset.value++;
    this.#finish();
  }

  requestTimedOut(): void {
    if (this.#done) return;
    this.rt.stats.rqTimeout.value++;
    this.sendLocalReply({ status: 408, flags: 0, details: 'request_overall_timeout', cause: 'request timeout' });
  }

  /** The codec's report that the exchange is over: counts it and hands the StreamInfo to the access log. */
  downstreamClosed(): void {
    this.#finish();
    const info = this.info;
    info.durationMs = performance.now() - info.startMs;
    info.bytesReceived = this.#body?.bytes ?? 0;
    const s = this.rt.stats;
    s.rqActive.value--;
    s.rqCompleted.value++;
    if (this.rt.accessLog !== undefined) {
      try {
        this.rt.accessLog(info);
      } catch {
        // Access logging never breaks the data path.
      }
    }
  }
}
