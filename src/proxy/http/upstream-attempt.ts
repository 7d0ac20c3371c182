/**
 * One try of an upstream request: an undici dispatch handler (the low-level streaming API — response
 * bytes go downstream as they arrive, with `pause()`/`resume()` for backpressure) that reports to its
 * owner. A try the owner gave up on (retry, timeout, downstream gone) is aborted and ignored.
 */
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { UpstreamHost } from '../core/contracts.ts';
import type { ClusterStats } from './cluster-stats.ts';
import type { LocalReply } from './local-reply.ts';
import type { ResetKind } from './retry-state.ts';
import { FLAG } from './stream-info.ts';
import { INVALID_UPSTREAM_REQUEST, UPSTREAM_PROTOCOL_ERROR } from '../core/error-codes.ts';

export interface AttemptOwner {
  onUpgrade(a: UpstreamAttempt, status: number, headers: IncomingHttpHeaders, socket: Duplex): void;
  onHeaders(a: UpstreamAttempt, status: number, headers: IncomingHttpHeaders): void;
  onData(a: UpstreamAttempt, chunk: Buffer): void;
  onEnd(a: UpstreamAttempt, trailers: IncomingHttpHeaders): void;
  onError(a: UpstreamAttempt, err: Error): void;
  /** A bug in the owner's handling (it threw): the owner ends the stream without throwing. */
  onInternalError(a: UpstreamAttempt, err: unknown): void;
}

/** The reason given to undici when the proxy abandons a try. */
export class AttemptAbandoned extends Error {
  readonly code = 'WEFT_ATTEMPT_ABANDONED';
}

export class UpstreamAttempt implements Dispatcher.DispatchHandler {
  readonly owner: AttemptOwner;
  readonly host: UpstreamHost;
  /** The request reached a connection (undici called onRequestStart): failures after this are resets. */
  started = false;
  responded = false;
  /** Abandoned or finished: nothing from undici counts any more. */
  done = false;
  paused = false;
  #controller: Dispatcher.DispatchController | undefined;

  constructor(owner: AttemptOwner, host: UpstreamHost) {
    this.owner = owner;
    this.host = host;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    this.started = true;
    if (this.done) controller.abort(new AttemptAbandoned('abandoned'));
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.#controller = controller;
    if (this.done) {
      socket.destroy();
      return;
    }
    this.responded = true;
    try {
      this.owner.onUpgrade(this, statusCode, headers, socket);
    } catch (err) {
      socket.destroy();
      this.#internal(err);
    }
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#controller = controller;
    if (this.done) return;
    this.responded = true;
    try {
      this.owner.onHeaders(this, statusCode, headers);
    } catch (err) {
      this.#internal(err);
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return;
    try {
      this.owner.onData(this, chunk);
    } catch (err) {
      this.#internal(err);
    }
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    if (this.done) return;
    this.done = true;
    try {
      this.owner.onEnd(this, trailers);
    } catch (err) {
      this.#internal(err);
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.done) return;
    this.done = true;
    try {
      this.owner.onError(this, err);
    } catch (e) {
      this.#internal(e);
    }
  }

  // Exceptions must not reach undici (it would tear down a pooled connection) or the event loop.
  #internal(err: unknown): void {
    this.abandon();
    try {
      this.owner.onInternalError(this, err);
    } catch {
      // Nothing more can be done for this stream.
    }
  }

  pause(): void {
    this.paused = true;
    this.#controller?.pause();
  }

  resume(): void {
    this.paused = false;
    this.#controller?.resume();
  }

  /** Gives up on this try; undici aborts it now or as soon as it starts. */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    try {
      this.#controller?.abort(new AttemptAbandoned('abandoned'));
    } catch {
      // Already finished inside undici.
    }
  }
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);

/**
 * How a try failed, Envoy's reset reasons: connection failure, refused stream, a response that could
 * not be read (Envoy's codec error, StreamResetReason::ProtocolError), or a reset after connecting.
 */
export function classifyFailure(err: Error, started: boolean): ResetKind {
  const code = (err as { code?: string }).code ?? '';
  // The pools' InvalidRequestError: the request itself cannot be written, whatever the host.
  if (code === INVALID_UPSTREAM_REQUEST) return 'protocol-error';
  if (code === UPSTREAM_PROTOCOL_ERROR) return 'upstream-protocol-error';
  if (!started || CONNECT_CODES.has(code)) return 'connect-failure';
  if (/REFUSED_STREAM|code 7\b/.test(err.message)) return 'refused-stream';
  return 'reset';
}

/** A short name for an error in causes (`ECONNREFUSED`, `UND_ERR_SOCKET`…). */
export function errorName(err: Error): string {
  const code = (err as { code?: string }).code;
  return code !== undefined && code !== '' ? code : err.message || err.name;
}

/**
 * The 503 for a request a circuit breaker turned away (UO). Envoy marks it `x-envoy-overloaded: true`
 * (so that a client or another proxy does not retry into the overload) unless the router suppresses
 * its `x-envoy-*` headers.
 */
export function overflowReply(cluster: string, suppressEnvoyHeaders: boolean): LocalReply {
  const reply = { status: 503, flags: FLAG.UO, details: 'upstream_overflow', cause: `upstream overflow (circuit breaker open) in ${cluster}` };
  return suppressEnvoyHeaders ? reply : { ...reply, headers: { 'x-envoy-overloaded': 'true' } };
}

/** The local reply for a try that failed before any response reached the client (UF, UC or UPE), counted on the cluster. */
export function describeFailure(kind: ResetKind, host: UpstreamHost, cluster: string, err: Error, stats: ClusterStats): LocalReply {
  const where = `${host.address}:${host.port} in ${cluster}`;
  if (kind === 'protocol-error') {
    // Envoy's codec refusing to encode a request: a 502 UPE, the upstream request reset locally.
    stats.rqTxReset.value++;
    return { status: 502, flags: FLAG.UPE, details: 'upstream_reset_before_response_started{protocol_error}', cause: `request cannot be sent to ${where}: ${err.message}` };
  }
  if (kind === 'upstream-protocol-error') {
    // Envoy's codec failing on the response (bad status line, framing, fields): CodecClient counts
    // upstream_cx_protocol_error, closes the connection, and the router answers 502 UPE.
    stats.cxProtocolError.value++;
    return { status: 502, flags: FLAG.UPE, details: 'upstream_reset_before_response_started{protocol_error}', cause: `upstream protocol error from ${where}: ${err.message}` };
  }
  if (kind === 'connect-failure') {
    // The cluster's pool counted upstream_cx_connect_fail.
    return { status: 503, flags: FLAG.UF, details: 'upstream_reset_before_response_started{connection_failure}', cause: `upstream connect error to ${where}: ${errorName(err)}` };
  }
  stats.rqRxReset.value++;
  const reason = kind === 'refused-stream' ? 'refused stream' : errorName(err);
  return { status: 503, flags: FLAG.UC, details: `upstream_reset_before_response_started{${kind}}`, cause: `upstream reset before response headers from ${where}: ${reason}` };
}
