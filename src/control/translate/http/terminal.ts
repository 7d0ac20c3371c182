/**
 * Route actions that answer without forwarding: VirtualService `redirect` and `directResponse` (Istio's
 * `ApplyRedirect` / `ApplyDirectResponse`), and weft's answer for a destination that names no known
 * service: a 503 saying which host, instead of a route to a cluster that does not exist (a proxy must
 * never be sent a route naming a cluster it was not sent).
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-redirectaction
 */
import type { SpecOf } from '../../../api/index.ts';
import { ERROR_HEADER, headerOption } from './envoy-values.ts';

type HTTPRoute = NonNullable<SpecOf<'VirtualService'>['http']>[number];
type HTTPRedirect = NonNullable<HTTPRoute['redirect']>;
type HTTPDirectResponse = NonNullable<HTTPRoute['directResponse']>;

/**
 * Where traffic goes when it cannot go anywhere useful and the proxy cannot answer by itself (proxyless
 * gRPC clients accept only forwarding routes). The listener/cluster generators always send it.
 */
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';

const REDIRECT_CODES: Readonly<Record<number, string>> = {
  0: 'MOVED_PERMANENTLY', 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT',
};

/**
 * Envoy's RedirectAction, or undefined for a redirect code Envoy has no name for (Istio then drops the
 * action; weft drops the route, since a route without an action is invalid).
 * `derivePort: FROM_REQUEST_PORT` becomes the listener port (routes are built per port), and a port
 * that is the scheme's default is left out of the Location.
 */
export function redirectAction(r: HTTPRedirect, listenerPort: number, tls: boolean): Record<string, unknown> | undefined {
  const responseCode = REDIRECT_CODES[r.redirectCode ?? 0];
  if (responseCode === undefined) return undefined;
  const out: Record<string, unknown> = { responseCode };
  if (r.authority) out['hostRedirect'] = r.authority;
  if (r.uri) out['pathRedirect'] = r.uri;
  else if (r.prefixRewrite) out['prefixRewrite'] = r.prefixRewrite;
  if (r.scheme) out['schemeRedirect'] = r.scheme;
  if (r.port !== undefined || r.derivePort !== undefined) {
    let port = r.port ?? (r.derivePort === 'FROM_REQUEST_PORT' ? listenerPort : 0);
    const scheme = r.scheme || (tls ? 'https' : 'http');
    if ((port === 80 && scheme === 'http') || (port === 443 && scheme === 'https')) port = 0;
    if (port !== 0) out['portRedirect'] = port;
  }
  return out;
}

export function directResponseAction(d: HTTPDirectResponse): Record<string, unknown> {
  const out: Record<string, unknown> = { status: d.status };
  if (d.body?.string !== undefined) out['body'] = { inlineString: d.body.string };
  else if (d.body?.bytes !== undefined) out['body'] = { inlineBytes: d.body.bytes };
  return out;
}

/** The message weft answers with (body and `x-weft-error`) when destination hosts name no service. */
export function unknownHostMessage(hosts: readonly string[], vsLabel: string): string {
  const list = hosts.map((h) => JSON.stringify(h)).join(', ');
  return `no service for destination host ${list} of VirtualService ${vsLabel}`;
}

/** Turns `route` into a 503 naming the unknown hosts (keeping its match and header operations). */
export function answerUnknownHosts(route: Record<string, unknown>, hosts: readonly string[], vsLabel: string): void {
  const message = unknownHostMessage(hosts, vsLabel);
  delete route['route'];
  route['directResponse'] = { status: 503, body: { inlineString: `${message}\n` } };
  const headers = Array.isArray(route['responseHeadersToAdd']) ? route['responseHeadersToAdd'] : [];
  route['responseHeadersToAdd'] = [...headers, headerOption(ERROR_HEADER, message, false)];
}
