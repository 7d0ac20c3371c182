/**
 * Replays a call through the xDS resources a proxy received and says where it lands — Istio's
 * traffic simulation idea (istio/istio pilot/pkg/simulation/traffic.go), with Envoy's own matching
 * rules: listener → filter chain → HTTP connection manager or TCP proxy → route configuration (inline or
 * RDS) → virtual host → first matching route → action → cluster(s) → endpoints. It reads only Envoy
 * config (never the translator), so tests of generated config check what a proxy would do with it.
 */
import { clusterTarget } from './clusters.ts';
import { findListener, selectFilterChain, terminalFilter, type ListenerMatch } from './listeners.ts';
import { parseQuery, type RequestHeaders } from './matchers.ts';
import { bool, enumName, list, num, obj, str } from './plain.ts';
import { firstMatchingRoute, type RouteRequest } from './route-match.ts';
import type { Call, ClusterTarget, Plain, ProxyConfig, SimError, SimResult } from './types.ts';
import { hostOptions, selectVirtualHost } from './virtual-hosts.ts';

type Partial = { -readonly [K in keyof SimResult]?: SimResult[K] };

function fail(partial: Partial, error: SimError): SimResult {
  return { ...partial, ok: false, error, clusters: partial.clusters ?? [] };
}

function headerValue(call: Call, name: string): string | undefined {
  for (const [k, v] of Object.entries(call.headers ?? {})) {
    if (k.toLowerCase() !== name) continue;
    return typeof v === 'string' ? v : v.join(',');
  }
  return undefined;
}

function authorityOf(call: Call): string {
  return call.authority ?? call.host ?? headerValue(call, 'host') ?? headerValue(call, ':authority') ?? '';
}

function requestOf(call: Call, authority: string): RouteRequest {
  const method = (call.method ?? 'GET').toUpperCase();
  const path = call.path ?? '/';
  const scheme = call.scheme ?? (call.tls ? 'https' : 'http');
  const pseudo: Record<string, string> = { ':method': method, ':path': path, ':authority': authority, ':scheme': scheme };
  const headers: RequestHeaders = {
    get: (name) => {
      const n = name.toLowerCase();
      return n.startsWith(':') ? (method === 'CONNECT' && n === ':path' ? undefined : pseudo[n]) : headerValue(call, n);
    },
  };
  return { method, path, headers, query: parseQuery(path) };
}

/** Simulates `call` against the resources of one proxy. */
export function simulate(config: ProxyConfig, call: Call): SimResult {
  let authority = authorityOf(call);
  const lm = findListener(config.listeners, call, authority);
  if (lm === undefined) return fail({}, { code: 'NO_LISTENER', message: `no listener on port ${call.port}${call.address ? ` of ${call.address}` : ''}` });
  const partial: Partial = { listener: lm.name };
  if (lm.via === 'api') {
    const hcm = obj(obj(lm.listener['apiListener'])?.['apiListener']);
    if (hcm === undefined) return fail(partial, { code: 'NO_NETWORK_FILTER', message: `api listener ${lm.name} has no HTTP connection manager` });
    return httpWalk(config, call, authority, hcm, partial);
  }
  const picked = selectFilterChain(lm.listener, call);
  if ('code' in picked) return fail(partial, picked);
  partial.filterChain = picked.label;
  const filter = terminalFilter(picked.chain);
  if (filter === undefined) return fail(partial, { code: 'NO_NETWORK_FILTER', message: `filter chain ${picked.label} has neither an HTTP connection manager nor a TCP proxy` });
  if (filter.kind === 'tcp') return tcpWalk(config, call, filter.config, partial);
  const problem = httpProtocolProblem(call, picked.chain);
  if (problem !== undefined) return fail(partial, problem);
  authority = proxiedAuthority(lm, call, authority);
  return httpWalk(config, call, authority, filter.config, partial);
}

function httpProtocolProblem(call: Call, chain: Plain): SimError | undefined {
  if (call.protocol === 'tcp') return { code: 'PROTOCOL_ERROR', message: 'a TCP connection reached an HTTP connection manager' };
  if (call.tls === true && chain['transportSocket'] === undefined) {
    return { code: 'PROTOCOL_ERROR', message: 'a TLS connection reached an HTTP connection manager that does not terminate TLS' };
  }
  return undefined;
}

/**
 * Traffic without a listener of its own that lands on `virtualOutbound` (weft's local-mode HTTP proxy)
 * is routed by authority; a client using the proxy sends the port in it unless it is 80.
 */
function proxiedAuthority(lm: ListenerMatch, call: Call, authority: string): string {
  if (lm.via !== 'fallback' || authority === '' || /:\d+$/.test(authority) || call.port === 80) return authority;
  return `${authority}:${call.port}`;
}

function tcpWalk(config: ProxyConfig, call: Call, tcp: Plain, partial: Partial): SimResult {
  const cluster = str(tcp['cluster']);
  const targets = cluster !== undefined
    ? [clusterTarget(cluster, 1, config, call)]
    : list(obj(tcp['weightedClusters'])?.['clusters']).map((c) => clusterTarget(str(c['name']) ?? '', num(c['weight']) ?? 0, config, call));
  return finish({ ...partial, action: 'tcp_proxy' }, targets);
}

function routeConfigOf(config: ProxyConfig, hcm: Plain, partial: Partial): { rc: Plain } | { error: SimError } {
  const inline = obj(hcm['routeConfig']);
  if (inline !== undefined) {
    partial.routeConfig = str(inline['name']) ?? '';
    return { rc: inline };
  }
  const name = str(obj(hcm['rds'])?.['routeConfigName']);
  if (name === undefined) return { error: { code: 'UNSUPPORTED', message: 'the HTTP connection manager has neither route_config nor rds (scoped routes are not simulated)' } };
  partial.routeConfig = name;
  const rc = config.routes?.[name];
  return rc !== undefined ? { rc } : { error: { code: 'NO_ROUTE_CONFIG', message: `route configuration ${JSON.stringify(name)} was not received` } };
}

function httpWalk(config: ProxyConfig, call: Call, authority: string, hcm: Plain, partial: Partial): SimResult {
  const found = routeConfigOf(config, hcm, partial);
  if ('error' in found) return fail(partial, found.error);
  const rc = found.rc;
  const vh = selectVirtualHost(rc, authority, hostOptions(rc, hcm, call.port));
  if (vh === undefined) return fail(partial, { code: 'NO_VIRTUAL_HOST', message: `no virtual host of ${partial.routeConfig} serves ${JSON.stringify(authority)}` });
  partial.virtualHost = str(vh['name']) ?? '';
  const requireTls = enumName(vh['requireTls'], ['NONE', 'EXTERNAL_ONLY', 'ALL']) ?? 'NONE';
  if (requireTls !== 'NONE' && call.tls !== true) {
    return { ...partial, ok: true, action: 'redirect', status: 301, redirect: { httpsRedirect: true }, clusters: [] };
  }
  const req = requestOf(call, authority);
  const index = firstMatchingRoute(vh, req);
  if (index < 0) return fail(partial, { code: 'NO_ROUTE', message: `no route of virtual host ${partial.virtualHost} matches ${req.method} ${req.path}` });
  const route = list(vh['routes'])[index]!;
  partial.routeIndex = index;
  const name = str(route['name']);
  if (name !== undefined) partial.route = name;
  const headers = responseHeaders(route);
  if (headers !== undefined) partial.responseHeaders = headers;
  return routeAction(config, call, req, route, partial);
}

function responseHeaders(route: Plain): Record<string, string> | undefined {
  const options = list(route['responseHeadersToAdd']);
  if (options.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const o of options) {
    const h = obj(o['header']);
    const key = str(h?.['key']);
    if (key !== undefined) out[key.toLowerCase()] = str(h?.['value']) ?? '';
  }
  return out;
}

const REDIRECT_STATUS: Readonly<Record<string, number>> = {
  MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308,
};
const REDIRECT_CODES = ['MOVED_PERMANENTLY', 'FOUND', 'SEE_OTHER', 'TEMPORARY_REDIRECT', 'PERMANENT_REDIRECT'];

function routeAction(config: ProxyConfig, call: Call, req: RouteRequest, route: Plain, partial: Partial): SimResult {
  const redirect = obj(route['redirect']);
  if (redirect !== undefined) {
    const code = enumName(redirect['responseCode'], REDIRECT_CODES) ?? 'MOVED_PERMANENTLY';
    return { ...partial, ok: true, action: 'redirect', status: REDIRECT_STATUS[code] ?? 301, redirect, clusters: [] };
  }
  const direct = obj(route['directResponse']);
  if (direct !== undefined) {
    const body = directBody(obj(direct['body']));
    return { ...partial, ok: true, action: 'direct_response', status: num(direct['status']) ?? 0, ...(body !== undefined ? { body } : {}), clusters: [] };
  }
  const action = obj(route['route']);
  if (action !== undefined) return finish({ ...partial, action: 'route' }, routeTargets(config, call, req, action));
  if (route['nonForwardingAction'] !== undefined) return { ...partial, ok: true, action: 'non_forwarding', clusters: [] };
  return fail(partial, { code: 'UNSUPPORTED', message: 'the route has no action the simulator knows' });
}

function directBody(body: Plain | undefined): string | undefined {
  const s = str(body?.['inlineString']);
  if (s !== undefined) return s;
  const b = body?.['inlineBytes'];
  if (typeof b === 'string') return Buffer.from(b, 'base64').toString('utf8');
  if (b instanceof Uint8Array) return Buffer.from(b).toString('utf8');
  return undefined;
}

function routeTargets(config: ProxyConfig, call: Call, req: RouteRequest, action: Plain): ClusterTarget[] {
  const cluster = str(action['cluster']);
  if (cluster !== undefined) return [clusterTarget(cluster, 1, config, call)];
  const header = str(action['clusterHeader']);
  if (header !== undefined) return [clusterTarget(req.headers.get(header) ?? '', 1, config, call)];
  return list(obj(action['weightedClusters'])?.['clusters'])
    .map((c) => clusterTarget(str(c['name']) ?? '', num(c['weight']) ?? 0, config, call));
}

function finish(partial: Partial, targets: readonly ClusterTarget[]): SimResult {
  const single = targets.length === 1 ? targets[0]! : undefined;
  const result: Partial = { ...partial, clusters: targets };
  if (single !== undefined) {
    result.cluster = single.name;
    result.endpoints = single.endpoints;
  }
  const missing = targets.filter((t) => !t.exists).map((t) => t.name);
  if (targets.length === 0) return fail(result, { code: 'UNKNOWN_CLUSTER', message: 'the action names no cluster' });
  if (missing.length > 0) return fail(result, { code: 'UNKNOWN_CLUSTER', message: `cluster ${missing.map((m) => JSON.stringify(m)).join(', ')} was not received` });
  return { ...result, ok: true, clusters: targets };
}

/** Whether the call was answered with the redirect to https of a virtual host that requires TLS. */
export function isTlsRedirect(r: SimResult): boolean {
  return r.action === 'redirect' && bool(r.redirect?.['httpsRedirect']) === true;
}
