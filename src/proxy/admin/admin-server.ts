/**
 * The proxy's HTTP endpoints: admin (15000: `/ready`, `/config_dump`, `/clusters`, `/listeners`,
 * `/stats`, `/stats/prometheus`, `/server_info`, `/memory`, `/logging`, POST `/quitquitquit`, POST
 * `/drain_listeners`), health (15021: `/healthz/ready`) and Prometheus (15090: `/stats/prometheus`).
 * Every handler answers from the parts' current state; a handler that fails answers 500 with the
 * reason instead of taking the process down.
 * https://www.envoyproxy.io/docs/envoy/latest/operations/admin
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getHeapSpaceStatistics } from 'node:v8';
import { http } from '../core/builtins.ts';
import type { Stats } from '../core/stats.ts';
import type { ListenerManager } from '../listener/index.ts';
import { clustersJson, clustersText, type ClusterManagerImpl } from '../upstream/index.ts';
import type { NodeProto, XdsClient } from '../xds/index.ts';
import { allocatorInUse } from './allocator.ts';
import { configDump } from './config-dump.ts';
import { maskConfigs, nameMatcher, selectResource } from './dump-query.ts';
import { isLogLevel, LEVELS, type Logger } from './logger.ts';
import { prometheusText, statsText } from './prometheus.ts';
import { parseStatsParams, selectStats, type StatsFormat } from './stats-params.ts';

/** What the endpoints read and control. */
export interface AdminContext {
  readonly node: NodeProto;
  readonly stats: Stats;
  readonly xds: XdsClient;
  readonly clusters: ClusterManagerImpl;
  readonly listeners: ListenerManager;
  readonly logger: Logger;
  /** Whether the proxy is ready (warm, listeners bound, not draining). */
  ready(): boolean;
  /** `/quitquitquit`: drain and stop the proxy (the process exits when the CLI sees it stopped). */
  quit(): void;
  readonly startedAt: number;
}

type Reply = { status?: number; type?: string; body: string };
type Handler = (ctx: AdminContext, url: URL, method: string) => Reply | Promise<Reply>;

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';

const json = (value: unknown, status = 200): Reply => ({ status, type: JSON_TYPE, body: `${JSON.stringify(value, null, 2)}\n` });

/** `/config_dump` with Envoy's `include_eds`, `name_regex`, `resource` and `mask` (dump-query.ts). */
function configDumpReply(ctx: AdminContext, url: URL): Reply {
  const q = url.searchParams;
  const { named, error } = nameMatcher(q.get('name_regex'));
  if (error !== undefined) return { status: 400, body: `${error}\n` };
  const { configs } = configDump(ctx, { includeEds: q.has('include_eds'), ...(named !== undefined ? { named } : {}) });
  const resource = q.get('resource');
  const mask = q.get('mask');
  const result = resource !== null ? selectResource(configs, resource, mask) : mask !== null ? maskConfigs(configs, mask) : { ok: true as const, configs };
  return result.ok ? json({ configs: result.configs }) : { status: result.status, body: `${result.message}\n` };
}

function ready(ctx: AdminContext): Reply {
  const r = ctx.xds.readiness();
  const ok = ctx.ready();
  return { status: ok ? 200 : 503, body: `${ok ? 'LIVE' : r.state === 'LIVE' ? 'DRAINING' : r.state}\n` };
}

function listenersReply(ctx: AdminContext, url: URL): Reply {
  const all = ctx.listeners.listeners().filter((l) => l.state !== 'api');
  if (url.searchParams.get('format') === 'json') {
    return json({ listener_statuses: all.map((l) => ({ name: l.name, local_address: { socket_address: { address: l.address, port_value: l.port } } })) });
  }
  return { body: all.map((l) => `${l.name}::${l.address}:${l.port}\n`).join('') };
}

const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** `/stats` (default text) and `/stats/prometheus`: Envoy's `usedonly`, `filter`, `type` and `format` (stats-params.ts). */
function statsReply(ctx: AdminContext, url: URL, defaultFormat: StatsFormat): Reply {
  const params = parseStatsParams(url.searchParams, defaultFormat);
  if ('error' in params) return { status: 400, body: `${params.error}\n` };
  const entries = selectStats(ctx.stats, params);
  switch (params.format) {
    case 'json':
      return json({ stats: entries.map((e) => ({ name: e.name, value: e.value })) });
    case 'prometheus':
      return { type: PROMETHEUS_TYPE, body: prometheusText(entries) };
    default:
      return { body: statsText(entries) };
  }
}

/**
 * Envoy's `/memory` fields mapped onto Node's: `allocated` is live JS heap plus memory held for JS
 * outside it (Buffers), `heap_size` what V8 reserved, `total_physical_bytes` the RSS; then the malloc in
 * use (jemalloc when bin/weft.js found it), Node's own figures and V8's heap spaces, to tell apart what
 * a config or traffic costs.
 */
function memoryReply(): Reply {
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
  return json({
    allocated: String(m.heapUsed + m.external),
    heap_size: String(m.heapTotal),
    total_physical_bytes: String(m.rss),
    allocator: allocatorInUse(),
    node: { rss: m.rss, heap_total: m.heapTotal, heap_used: m.heapUsed, external: m.external, array_buffers: m.arrayBuffers, heap_spaces: spaces },
  });
}

const LOGGING_USAGE = [
  'usage: /logging?<name>=<level> (change single level)',
  'usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)',
  'usage: /logging?level=<level> (change all levels)',
  `levels: ${LEVELS.map((l) => `${l} `).join('')}`,
].join('\n');

/** Applies `/logging`'s one parameter (Envoy's `LogsHandler::changeLogLevel`); Envoy's reason when refused. */
function changeLogLevel(logger: Logger, params: readonly [string, string][]): string | undefined {
  if (params.length !== 1) return 'invalid number of parameters';
  const [key, value] = params[0]!;
  const admin = logger.get('admin');
  if (key === 'level') {
    if (!isLogLevel(value)) return 'unknown logger level';
    admin.log('info', `change all log levels: level='${value}'`);
    logger.setAll(value);
    return undefined;
  }
  const pairs = key === 'paths'
    ? value.split(',').filter((p) => p.trim() !== '').map((p): [string, string] => {
      const colon = p.indexOf(':');
      return colon < 0 ? [p.trim(), ''] : [p.slice(0, colon).trim(), p.slice(colon + 1).trim()];
    })
    : [[key, value] as [string, string]];
  const error = logger.setLevels(pairs);
  if (error === undefined) for (const [name, level] of pairs) admin.log('info', `change log level: name='${name}' level='${level}'`);
  return error;
}

/** GET lists the loggers; POST with `level=`, `<name>=` or `paths=` changes them first (400 with the reason and usage when refused). */
function logging(ctx: AdminContext, url: URL, method: string): Reply {
  const params = [...url.searchParams];
  if (params.length === 0) return { body: ctx.logger.listing() };
  if (method !== 'POST') return { status: 405, body: `Method ${method} not allowed, POST required.\n` };
  const error = changeLogLevel(ctx.logger, params);
  if (error !== undefined) return { status: 400, body: `error: ${error}\n\n${LOGGING_USAGE}\n${ctx.logger.listing()}` };
  return { body: ctx.logger.listing() };
}

function post(handler: Handler): Handler {
  return (ctx, url, method) => (method === 'POST' ? handler(ctx, url, method) : { status: 405, body: 'this endpoint needs POST\n' });
}

const ADMIN_ROUTES: Readonly<Record<string, Handler>> = {
  '/ready': ready,
  '/config_dump': configDumpReply,
  '/clusters': (ctx, url) => (url.searchParams.get('format') === 'json' ? json(clustersJson(ctx.clusters)) : { body: clustersText(ctx.clusters) }),
  '/listeners': listenersReply,
  '/stats': (ctx, url) => statsReply(ctx, url, 'text'),
  '/stats/prometheus': (ctx, url) => statsReply(ctx, url, 'prometheus'),
  '/server_info': (ctx) => json({
    version: ctx.node.userAgentVersion,
    state: ctx.xds.readiness().state,
    uptime_current_epoch: `${Math.floor((Date.now() - ctx.startedAt) / 1000)}s`,
    node: { id: ctx.node.id, cluster: ctx.node.cluster },
    xds: ctx.xds.status(),
  }),
  '/memory': memoryReply,
  '/logging': logging,
  '/quitquitquit': post((ctx) => {
    setImmediate(() => ctx.quit());
    return { body: 'OK\n' };
  }),
  '/drain_listeners': post((ctx, url) => {
    void ctx.listeners.drainListeners({ inboundOnly: url.searchParams.has('inboundonly') });
    return { body: 'OK\n' };
  }),
};

const HEALTH_ROUTES: Readonly<Record<string, Handler>> = {
  '/healthz/ready': (ctx) => (ctx.ready() ? { body: '' } : { status: 503, body: `not ready: ${ctx.xds.readiness().waitingFor.join(', ') || 'draining'}\n` }),
};

const PROMETHEUS_ROUTES: Readonly<Record<string, Handler>> = {
  '/stats/prometheus': ADMIN_ROUTES['/stats/prometheus']!,
};

function index(routes: Readonly<Record<string, Handler>>): Reply {
  return { status: 404, body: `unknown path; try:\n${Object.keys(routes).map((p) => `  ${p}\n`).join('')}` };
}

async function handle(ctx: AdminContext, routes: Readonly<Record<string, Handler>>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let reply: Reply;
  try {
    const url = new URL(req.url ?? '/', 'http://admin');
    const handler = routes[url.pathname];
    reply = handler === undefined ? index(routes) : await handler(ctx, url, req.method ?? 'GET');
  } catch (e) {
    reply = { status: 500, body: `admin handler failed: ${(e as Error).message}\n` };
  }
  res.writeHead(reply.status ?? 200, { 'content-type': reply.type ?? TEXT, 'cache-control': 'no-cache, max-age=0' });
  res.end(req.method === 'HEAD' ? undefined : reply.body);
}

export type AdminRole = 'admin' | 'health' | 'prometheus';

const ROLES: Readonly<Record<AdminRole, Readonly<Record<string, Handler>>>> = { admin: ADMIN_ROUTES, health: HEALTH_ROUTES, prometheus: PROMETHEUS_ROUTES };

/** One of the proxy's HTTP endpoints, bound. */
export class AdminServer {
  readonly role: AdminRole;
  /** The bound address (kept after `close`). */
  readonly address: AddressInfo;
  readonly #server: Server;

  private constructor(role: AdminRole, server: Server) {
    this.role = role;
    this.#server = server;
    this.address = server.address() as AddressInfo;
  }

  static async listen(role: AdminRole, ctx: AdminContext, host: string, port: number): Promise<AdminServer> {
    const routes = ROLES[role];
    const server = http.createServer((req, res) => void handle(ctx, routes, req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new AdminServer(role, server);
  }

  get url(): string {
    const a = this.address;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
