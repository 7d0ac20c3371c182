/**
 * Typed errors of the upstream side. Each condition has one class or code that callers (router, TCP
 * proxy) switch on to choose the response flag; messages are for humans and name the cluster and host.
 * They reach callers as rejected promises (`connect`) or through undici's `onResponseError`, never as
 * exceptions thrown into the event loop.
 */

export type UpstreamErrorCode =
  | 'UPSTREAM_CONNECT_FAILURE' // the connection was refused, reset or unreachable (Envoy flag UF)
  | 'UPSTREAM_CONNECT_TIMEOUT' // no connection within the cluster's connect_timeout (UF; Envoy also counts connect_timeout)
  | 'UPSTREAM_OVERFLOW'; // a circuit breaker (max_connections) refused a new connection (UO)

export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode;
  readonly cluster: string;
  /** `address:port` of the host. */
  readonly host: string;
  constructor(code: UpstreamErrorCode, cluster: string, host: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamError';
    this.code = code;
    this.cluster = cluster;
    this.host = host;
  }
}

/** The Envoy response flag for an upstream error code. */
export function responseFlag(code: UpstreamErrorCode): 'UF' | 'UO' {
  return code === 'UPSTREAM_OVERFLOW' ? 'UO' : 'UF';
}
