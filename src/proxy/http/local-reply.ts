/**
 * Local replies: responses the proxy makes itself instead of forwarding one. Failures (no route, no
 * healthy upstream, timeouts…) carry a response flag, an `x-weft-error` header naming the cause and the
 * cluster, and the cause as a short text body (linkerd2-proxy's `l5d-proxy-error` idea), so no failure is
 * a bare "503". Configured answers (redirects, direct responses, CORS preflights) carry no error header.
 * For gRPC requests a reply is trailers-only with `grpc-status` mapped from the HTTP status, as Envoy does
 * (https://github.com/envoyproxy/envoy/blob/main/source/common/grpc/status.cc, httpToGrpcStatus).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { encodeGrpcMessage } from '../../xds/grpc-status.ts';
import { isGrpcContentType } from '../codec/grpc-content-type.ts';

export const ERROR_HEADER = 'x-weft-error';

/** A response the proxy makes itself. */
export interface LocalReply {
  readonly status: number;
  /** Envoy response flag bits (`FLAG.*`), 0 for configured answers. */
  readonly flags: number;
  /** Envoy's `%RESPONSE_CODE_DETAILS%` token: `no_healthy_upstream`, `route_not_found`, `direct_response`… */
  readonly details: string;
  /** Set for failures: the `x-weft-error` value and the default body, naming the cluster when one is involved. */
  readonly cause?: string;
  /** Overrides the gRPC status a gRPC request gets (fault filter `grpc_status`). */
  readonly grpcStatus?: number;
  readonly headers?: OutgoingHttpHeaders;
  /** Body (direct responses); failures default to the cause. */
  readonly body?: string | Buffer;
}

/** The reply as it goes on the wire. */
export interface ReplyFrame {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: string | Buffer | undefined;
}

/** gRPC status for an HTTP status (Envoy's Grpc::Utility::httpToGrpcStatus). */
export function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400: return 13; // INTERNAL
    case 401: return 16; // UNAUTHENTICATED
    case 403: return 7; // PERMISSION_DENIED
    case 404: return 12; // UNIMPLEMENTED
    case 429: case 502: case 503: case 504: return 14; // UNAVAILABLE
    default: return 2; // UNKNOWN
  }
}

export { isGrpcContentType };

const MAX_ERROR_LENGTH = 512;

/** A header-safe version of a cause: visible ASCII only (paths and hosts come from the client), bounded. */
export function headerSafe(text: string): string {
  let clean = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      clean = false;
      break;
    }
  }
  const out = clean ? text : text.replace(/[^\x20-\x7e]/g, '?');
  return out.length > MAX_ERROR_LENGTH ? `${out.slice(0, MAX_ERROR_LENGTH)}...` : out;
}

/** The wire form of a local reply for a plain HTTP request. */
export function httpFrame(reply: LocalReply, head: boolean): ReplyFrame {
  const headers: OutgoingHttpHeaders = { ...reply.headers };
  let body = reply.body;
  if (reply.cause !== undefined) {
    const cause = headerSafe(reply.cause);
    headers[ERROR_HEADER] = cause;
    if (body === undefined) body = `${cause}\n`;
  }
  if (body !== undefined) {
    if (headers['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=utf-8';
    headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  } else if (reply.status !== 204 && reply.status !== 304) {
    headers['content-length'] = 0;
  }
  return { status: reply.status, headers, body: head ? undefined : body };
}

/** The wire form for a gRPC request: HTTP 200, trailers-only, the status and message in headers. */
export function grpcFrame(reply: LocalReply): ReplyFrame {
  const headers: OutgoingHttpHeaders = { ...reply.headers };
  const grpcStatus = reply.grpcStatus ?? httpToGrpcStatus(reply.status);
  headers['content-type'] = 'application/grpc';
  headers['grpc-status'] = String(grpcStatus);
  const message = reply.cause ?? (typeof reply.body === 'string' ? reply.body : undefined);
  if (message !== undefined && message !== '') headers['grpc-message'] = encodeGrpcMessage(message);
  if (reply.cause !== undefined) headers[ERROR_HEADER] = headerSafe(reply.cause);
  return { status: 200, headers, body: undefined };
}
