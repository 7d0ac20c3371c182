/**
 * gRPC status codes and the `grpc-message` trailer's percent-encoding, shared by the control plane's
 * ADS server, the proxy's ADS client and its local replies.
 * https://grpc.github.io/grpc/core/md_doc_statuscodes.html, https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md
 */

export const GrpcStatus = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

const NAMES: readonly string[] = Object.entries(GrpcStatus).sort((a, b) => a[1] - b[1]).map(([name]) => name);

/** `UNAVAILABLE` for 14; the number itself for a code outside the table. */
export function grpcStatusName(code: number): string {
  return NAMES[code] ?? String(code);
}

/** Percent-encodes a status message as the spec asks (bytes outside printable ASCII, and '%'). */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The text of a received `grpc-message` (a malformed escape is kept as it came, as the spec allows). */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value[i] === '%' ? value.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(value[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
