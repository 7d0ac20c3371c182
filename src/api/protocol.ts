/**
 * Istio's protocol names and how a port's protocol is decided: the Gateway/ServiceEntry `protocol`
 * field (case-insensitive), or a Service port's `appProtocol` or name prefix (`http-web`, `grpc`).
 * https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
 */

export type Protocol =
  | 'HTTP' | 'HTTP2' | 'HTTPS' | 'GRPC' | 'GRPC-Web' | 'TCP' | 'TLS' | 'UDP' | 'Mongo' | 'Redis' | 'MySQL' | 'HTTP_PROXY';

const BY_LOWER: ReadonlyMap<string, Protocol> = new Map(
  (['HTTP', 'HTTP2', 'HTTPS', 'GRPC', 'GRPC-Web', 'TCP', 'TLS', 'UDP', 'Mongo', 'Redis', 'MySQL', 'HTTP_PROXY'] as const)
    .map((p) => [p.toLowerCase(), p]),
);

export const PROTOCOL_NAMES: readonly string[] = [...BY_LOWER.values()];

/** The protocol named by `name` (case-insensitive), or undefined when Istio would call it unsupported. */
export function parseProtocol(name: string): Protocol | undefined {
  return BY_LOWER.get(name.toLowerCase());
}

export function isHttpProtocol(p: Protocol | undefined): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-Web' || p === 'HTTP_PROXY';
}

/** TLS-carrying protocols whose servers need `tls` settings on a Gateway. */
export function isTlsProtocol(p: Protocol | undefined): boolean {
  return p === 'HTTPS' || p === 'TLS';
}

/**
 * The protocol of a Kubernetes Service port, as Istio selects it: `appProtocol` first, then the port
 * name's prefix before the first `-` (`http-web` → HTTP). Undefined when neither says (Istio then sniffs).
 */
export function servicePortProtocol(port: { name?: string; appProtocol?: string }): Protocol | undefined {
  if (port.appProtocol !== undefined) {
    const ap = port.appProtocol.toLowerCase();
    const mapped = ap === 'kubernetes.io/h2c' ? 'HTTP2' : ap === 'kubernetes.io/ws' || ap === 'kubernetes.io/wss' ? 'HTTP' : parseProtocol(ap);
    if (mapped !== undefined) return mapped;
  }
  if (port.name === undefined || port.name === '') return undefined;
  const dash = port.name.indexOf('-');
  return parseProtocol(dash < 0 ? port.name : port.name.slice(0, dash));
}
