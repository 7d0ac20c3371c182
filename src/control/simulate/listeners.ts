/**
 * Which listener and filter chain take a connection. Listeners: exact address and port, then a
 * wildcard address on the port (when the call names no address, any listener on the port), then a
 * proxyless gRPC `api_listener` named after the target authority, then `virtualOutbound` (where captured traffic
 * without a listener of its own lands, as in Istio's simulation). Filter chains: Envoy's match order
 * (destination port, destination IP, server name, transport protocol, application protocols), where
 * at each step the chains that state the criterion and fit it win, else those that do not state it.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch
 */
import { anyType, list, num, obj, str, strings } from './plain.ts';
import type { Call, Plain, SimError } from './types.ts';

export const VIRTUAL_OUTBOUND = 'virtualOutbound';
const TLS_INSPECTOR = 'envoy.filters.listener.tls_inspector';
const HTTP_INSPECTOR = 'envoy.filters.listener.http_inspector';

export interface ListenerMatch {
  readonly name: string;
  readonly listener: Plain;
  /** How it was found: bound to the call's port, an api_listener, or the capture fallback. */
  readonly via: 'port' | 'api' | 'fallback';
}

function socket(l: Plain): { address: string; port: number } | undefined {
  const s = obj(obj(l['address'])?.['socketAddress']);
  return s === undefined ? undefined : { address: str(s['address']) ?? '', port: num(s['portValue']) ?? 0 };
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

export function findListener(listeners: Readonly<Record<string, Plain>>, call: Call, authority: string): ListenerMatch | undefined {
  const entries = Object.entries(listeners);
  const onPort = entries.filter(([, l]) => socket(l)?.port === call.port);
  const found = onPort.find(([, l]) => call.address !== undefined && socket(l)?.address === call.address)
    ?? onPort.find(([, l]) => WILDCARDS.has(socket(l)!.address))
    ?? (call.address === undefined ? onPort[0] : undefined);
  if (found !== undefined) return { name: found[0], listener: found[1], via: 'port' };
  const apiName = /:\d+$/.test(authority) ? authority : `${authority}:${call.port}`;
  const api = listeners[apiName];
  if (api !== undefined && obj(api['apiListener']) !== undefined) return { name: apiName, listener: api, via: 'api' };
  const fallback = listeners[VIRTUAL_OUTBOUND];
  return fallback === undefined ? undefined : { name: VIRTUAL_OUTBOUND, listener: fallback, via: 'fallback' };
}

/** Whether the listener has a listener filter, by name or by its config type (`…tls_inspector.v3.TlsInspector`). */
function hasListenerFilter(l: Plain, name: string): boolean {
  const typePrefix = `${name.replace('envoy.filters.', 'envoy.extensions.filters.')}.`;
  return list(l['listenerFilters']).some((f) => str(f['name']) === name || (anyType(f['typedConfig']) ?? '').startsWith(typePrefix));
}

/** What the listener filters learn about the connection. */
interface Detected {
  readonly port: number;
  readonly address: string | undefined;
  readonly sni: string;
  readonly transport: string;
  readonly alpn: readonly string[];
}

function detect(l: Plain, call: Call): Detected {
  const tlsInspector = hasListenerFilter(l, TLS_INSPECTOR);
  const tls = call.tls === true;
  let alpn: readonly string[] = tls && tlsInspector ? call.alpn ?? [] : [];
  if (!tls && hasListenerFilter(l, HTTP_INSPECTOR) && call.protocol !== 'tcp') alpn = [call.protocol === 'http2' ? 'h2c' : 'http/1.1'];
  // Without the TLS inspector Envoy sees neither SNI nor TLS: every connection is raw_buffer.
  return {
    port: call.port,
    address: call.address,
    sni: tls && tlsInspector ? (call.sni ?? '').toLowerCase() : '',
    transport: tls && tlsInspector ? 'tls' : 'raw_buffer',
    alpn,
  };
}

type Chain = { readonly chain: Plain; readonly label: string };

/** Keeps the chains whose criterion fits with the best score; else those without the criterion. */
function narrow(chains: readonly Chain[], stated: (m: Plain) => boolean, score: (m: Plain) => number): Chain[] {
  const matchOf = (c: Chain) => obj(c.chain['filterChainMatch']) ?? {};
  if (!chains.some((c) => stated(matchOf(c)))) return [...chains];
  let bestScore = 0;
  for (const c of chains) if (stated(matchOf(c))) bestScore = Math.max(bestScore, score(matchOf(c)));
  if (bestScore > 0) return chains.filter((c) => stated(matchOf(c)) && score(matchOf(c)) === bestScore);
  return chains.filter((c) => !stated(matchOf(c)));
}

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** Prefix length + 1 of the longest range containing `address` (IPv4 only), or 0. */
function prefixScore(m: Plain, address: string | undefined): number {
  const ip = address === undefined ? undefined : ipv4ToInt(address);
  if (ip === undefined) return 0;
  let best = 0;
  for (const r of list(m['prefixRanges'])) {
    const base = ipv4ToInt(str(r['addressPrefix']) ?? '');
    const len = num(r['prefixLen']) ?? 32;
    if (base === undefined) continue;
    const size = 2 ** (32 - len);
    if (Math.floor(ip / size) === Math.floor(base / size)) best = Math.max(best, len + 1);
  }
  return best;
}

/** 3 for an exact server name, 2 + a tiny length bonus for the longest wildcard, else 0. */
function serverNameScore(m: Plain, sni: string): number {
  let best = 0;
  for (const n of strings(m['serverNames']).map((s) => s.toLowerCase())) {
    if (n === sni) return 3;
    if (n.startsWith('*.') && sni.endsWith(n.slice(1)) && sni.length > n.length - 1) best = Math.max(best, 2 + n.length / 1e6);
  }
  return best;
}

/** The filter chain Envoy picks for the connection, or an error. */
export function selectFilterChain(l: Plain, call: Call): { chain: Plain; label: string } | SimError {
  const d = detect(l, call);
  let chains: Chain[] = list(l['filterChains']).map((chain, i) => ({ chain, label: str(chain['name']) || `#${i}` }));
  chains = narrow(chains, (m) => m['destinationPort'] !== undefined, (m) => (num(m['destinationPort']) === d.port ? 1 : 0));
  chains = narrow(chains, (m) => list(m['prefixRanges']).length > 0, (m) => prefixScore(m, d.address));
  chains = narrow(chains, (m) => strings(m['serverNames']).length > 0, (m) => serverNameScore(m, d.sni));
  chains = narrow(chains, (m) => Boolean(str(m['transportProtocol'])), (m) => (str(m['transportProtocol']) === d.transport ? 1 : 0));
  chains = narrow(chains, (m) => strings(m['applicationProtocols']).length > 0, (m) => (strings(m['applicationProtocols']).some((p) => d.alpn.includes(p)) ? 1 : 0));
  if (chains.length > 1) return { code: 'MULTIPLE_FILTER_CHAINS', message: `filter chains ${chains.map((c) => c.label).join(', ')} all match` };
  if (chains.length === 1) return chains[0]!;
  const fallback = obj(l['defaultFilterChain']);
  if (fallback !== undefined) return { chain: fallback, label: str(fallback['name']) || 'default' };
  return { code: 'NO_FILTER_CHAIN', message: `no filter chain of listener matches port ${d.port}${d.sni ? `, SNI ${d.sni}` : ''} (${d.transport})` };
}

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_PROXY_TYPE = 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/** The terminal network filter of a chain: an HTTP connection manager or a TCP proxy. */
export function terminalFilter(chain: Plain): { kind: 'hcm' | 'tcp'; config: Plain } | undefined {
  for (const f of list(chain['filters'])) {
    const config = obj(f['typedConfig']);
    const type = anyType(config);
    const name = str(f['name']);
    if (config === undefined) continue;
    if (type === HCM_TYPE || name === 'envoy.filters.network.http_connection_manager') return { kind: 'hcm', config };
    if (type === TCP_PROXY_TYPE || name === 'envoy.filters.network.tcp_proxy') return { kind: 'tcp', config };
  }
  return undefined;
}
