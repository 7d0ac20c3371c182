/** Istio's xDS resource names (DESIGN.md "Names"), in one place. */

export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
export const VIRTUAL_OUTBOUND = 'virtualOutbound';
export const VIRTUAL_INBOUND = 'virtualInbound';
/** The local-mode HTTP proxy port (also the capture port with iptables). */
export const OUTBOUND_PORT = 15001;
export const INBOUND_PORT = 15006;

export function outboundCluster(port: number, subset: string, host: string): string {
  return `outbound|${port}|${subset}|${host}`;
}

export function inboundCluster(port: number): string {
  return `inbound|${port}||`;
}

/** Parses `outbound|port|subset|host`; undefined for other names. */
export function parseOutboundCluster(name: string): { port: number; subset: string; host: string } | undefined {
  const parts = name.split('|');
  if (parts.length !== 4 || parts[0] !== 'outbound') return undefined;
  const port = Number(parts[1]);
  return Number.isInteger(port) ? { port, subset: parts[2]!, host: parts[3]! } : undefined;
}

/** Gateway route configuration name for a server port. */
export function gatewayRouteName(port: number): string {
  return `http.${port}`;
}

export function listenerName(address: string, port: number): string {
  return `${address}_${port}`;
}
