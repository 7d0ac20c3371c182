/**
 * The router filter (`envoy.filters.http.router`, `…router.v3.Router`), the terminal HTTP filter: acts on
 * the routing decision — no route (404 NR, naming the host and path), redirect, direct response, or
 * forwarding to a cluster (unknown cluster: NC with the route's `cluster_not_found_response_code`;
 * upgrades and CONNECT checked against the route's and the HCM's `upgrade_configs`).
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { ActiveStream } from '../active-stream.ts';
import { targetOf } from '../active-stream.ts';
import { connectTunnel } from '../connect-tunnel.ts';
import type { HttpFilter, HttpFilterFactory } from '../filter.ts';
import { STOP } from '../filter.ts';
import type { FilterStream } from '../filter-stream.ts';
import { applyHeaderMutations } from '../router/header-mutations.ts';
import { bool, field, list, Problems, type Proto } from '../router/proto.ts';
import type { Decision, RouteDecision } from '../router/types.ts';
import { FLAG } from '../stream-info.ts';
import { UpstreamCall, type RouterSettings } from '../upstream-call.ts';
import { headerCommands, ResponseHeaderEditor } from '../upstream-headers.ts';

export const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

export function parseRouter(c: Proto, path: string): { config: RouterSettings; problems: string[] } {
  const problems = new Problems();
  if (list(c['upstreamHttpFilters']).length > 0) problems.add(field(path, 'upstreamHttpFilters'), 'upstream HTTP filters are not supported');
  return { config: { suppressEnvoyHeaders: bool(c['suppressEnvoyHeaders']) }, problems: problems.list };
}

/** Response headers for an answer the route gives itself (redirect, direct response), with the route's mutations. */
function routeAnswerHeaders(s: ActiveStream, d: Decision, base: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const target = targetOf(d);
  if (target !== undefined && target.responseHeaders.length > 0) {
    applyHeaderMutations(target.responseHeaders, new ResponseHeaderEditor(base), headerCommands(s.info, s.connection, s.request.headers));
  }
  return base;
}

class RouterFilter implements HttpFilter {
  readonly #settings: RouterSettings;
  /** What forwards this stream (the upstream call, or a CONNECT tunnel), stopped when the stream ends. */
  #active: { cancel(): void } | undefined;

  constructor(settings: RouterSettings) {
    this.#settings = settings;
  }

  decodeHeaders(stream: FilterStream): typeof STOP {
    // The router is only ever run by the connection manager's ActiveStream (it needs the codec).
    const s = stream as ActiveStream;
    const d = s.decision();
    switch (d.kind) {
      case 'route':
        this.#forward(s, d);
        break;
      case 'redirect':
        s.rt.stats.rqRedirect.value++;
        s.sendLocalReply({ status: d.status, flags: 0, details: 'via_route_redirect', headers: routeAnswerHeaders(s, d, { location: d.location }) });
        break;
      case 'direct_response': {
        s.rt.stats.rqDirectResponse.value++;
        const headers = routeAnswerHeaders(s, d, d.body !== undefined ? { 'content-type': 'text/plain' } : {});
        s.sendLocalReply({ status: d.status, flags: 0, details: 'direct_response', headers, ...(d.body !== undefined ? { body: d.body } : {}) });
        break;
      }
      default:
        this.#noRoute(s, d.kind);
    }
    return STOP;
  }

  #noRoute(s: ActiveStream, kind: Decision['kind']): void {
    s.rt.stats.noRoute.value++;
    const loaded = s.rt.routes() !== undefined;
    const target = s.request.method === 'CONNECT' ? `CONNECT ${s.request.authority}` : `${s.request.authority}${s.request.path}`;
    const cause = !loaded
      ? `no route for ${target}: route configuration ${JSON.stringify(s.routesName())} not loaded`
      : kind === 'non_forwarding' ? `no route for ${target}: the route does not forward` : `no route for ${target}`;
    s.sendLocalReply({ status: 404, flags: FLAG.NR, details: 'route_not_found', cause });
  }

  #forward(s: ActiveStream, d: RouteDecision): void {
    const name = d.cluster;
    const cluster = name === '' ? undefined : s.rt.clusters.cluster(name);
    if (cluster === undefined) {
      s.rt.stats.noCluster.value++;
      const cause = name === '' ? `cluster not found: request header ${d.target.headerName ?? ''} names no cluster` : `cluster not found: ${name}`;
      s.sendLocalReply({ status: d.forward.clusterNotFoundStatus, flags: FLAG.NC, details: 'cluster_not_found', cause });
      return;
    }
    const upgrade = s.down.connect ? 'connect' : s.down.upgrade === 'h2c' ? undefined : s.down.upgrade;
    if (upgrade !== undefined && !this.#upgradeAllowed(s, d, upgrade)) return;
    if (upgrade === 'connect') {
      this.#active = { cancel: connectTunnel(s, cluster, this.#settings.suppressEnvoyHeaders) };
      return;
    }
    const call = new UpstreamCall(s, d, cluster, this.#settings);
    this.#active = call;
    call.start();
  }

  /** Envoy's per-route upgrade map: the route's `enabled` wins over the HCM's; CONNECT needs `connect_config`. */
  #upgradeAllowed(s: ActiveStream, d: RouteDecision, type: string): boolean {
    const enabled = d.forward.upgrades.types.get(type) ?? s.rt.config.upgrades.get(type)?.enabled ?? (type === 'connect' && s.rt.config.allowConnect);
    if (enabled && (type !== 'connect' || d.forward.upgrades.connect !== undefined)) return true;
    s.rt.stats.rqWsOnNonWsRoute.value++;
    const why = enabled ? 'the route does not terminate CONNECT (no connect_config)' : 'not enabled on this route';
    s.sendLocalReply({ status: 403, flags: 0, details: 'upgrade_failed', cause: `upgrade ${type} refused: ${why}` });
    return false;
  }

  onDestroy(): void {
    this.#active?.cancel();
    this.#active = undefined;
  }
}

export const routerFilterFactory: HttpFilterFactory<RouterSettings, never> = {
  typeUrl: ROUTER_TYPE,
  terminal: true,
  parse: (config, path) => parseRouter(config, path),
  prepare: (config) => () => new RouterFilter(config),
};
