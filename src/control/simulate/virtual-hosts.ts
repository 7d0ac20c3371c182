/**
 * Envoy's virtual host selection by the request's authority: an exact domain first, then the longest
 * suffix wildcard (`*.example.com`, `*-bar.example.com`), then the longest prefix wildcard (`foo.*`),
 * then `*`. A wildcard never matches an empty part. Domains are compared case-insensitively; the port is
 * part of the authority unless the route configuration or connection manager strips it.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-virtualhost
 */
import { bool, list, strings } from './plain.ts';
import type { Plain } from './types.ts';

export interface HostOptions {
  /** `RouteConfiguration.ignore_port_in_host_matching` or HCM `strip_any_host_port`. */
  readonly stripAnyPort: boolean;
  /** HCM `strip_matching_host_port`: strip the port when it is the listener's. */
  readonly stripPort?: number;
}

/** `host:port` → `host`, for names and bracketed IPv6 literals. */
export function stripPort(authority: string, only?: number): string {
  const m = /^(.*?)(?::(\d+))?$/.exec(authority);
  const host = m?.[1] ?? authority;
  const port = m?.[2];
  if (port === undefined || host === '' || (host.includes(':') && !host.endsWith(']'))) return authority;
  if (only !== undefined && Number(port) !== only) return authority;
  return host;
}

export function hostOptions(routeConfig: Plain, hcm: Plain | undefined, listenerPort: number): HostOptions {
  const stripAnyPort = bool(routeConfig['ignorePortInHostMatching']) === true || bool(hcm?.['stripAnyHostPort']) === true;
  return bool(hcm?.['stripMatchingHostPort']) === true ? { stripAnyPort, stripPort: listenerPort } : { stripAnyPort };
}

function best(vhosts: readonly Plain[], score: (domain: string) => number): Plain | undefined {
  let found: Plain | undefined;
  let longest = 0;
  for (const vh of vhosts) {
    for (const d of strings(vh['domains'])) {
      const s = score(d.toLowerCase());
      if (s > longest) {
        longest = s;
        found = vh;
      }
    }
  }
  return found;
}

/** The virtual host of `routeConfig` that serves `authority`, or undefined. */
export function selectVirtualHost(routeConfig: Plain, authority: string, options: HostOptions): Plain | undefined {
  let host = authority.toLowerCase();
  if (options.stripAnyPort) host = stripPort(host);
  else if (options.stripPort !== undefined) host = stripPort(host, options.stripPort);
  const vhosts = list(routeConfig['virtualHosts']);
  const exact = vhosts.find((vh) => strings(vh['domains']).some((d) => d.toLowerCase() === host));
  if (exact !== undefined) return exact;
  const suffix = best(vhosts, (d) => (d.length > 1 && d.startsWith('*') && host.length >= d.length && host.endsWith(d.slice(1)) ? d.length : 0));
  if (suffix !== undefined) return suffix;
  const prefix = best(vhosts, (d) => (d.length > 1 && d.endsWith('*') && host.length >= d.length && host.startsWith(d.slice(0, -1)) ? d.length : 0));
  if (prefix !== undefined) return prefix;
  return vhosts.find((vh) => strings(vh['domains']).includes('*'));
}
