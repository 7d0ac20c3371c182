/**
 * The configuration files of the peer proxies, written by the benchmark: nginx and HAProxy as plain
 * HTTP/1.1 reverse proxies on loopback, one worker (nginx) or one thread (HAProxy), keep-alive on both
 * sides (so, like weft's pools, they reuse upstream connections), no logging of requests (weft's sidecars
 * log none either), and generous keep-alive limits so no connection is closed during a run (nginx closes
 * a keep-alive connection after 1000 requests by default: a reconnect every second at 1000 rps).
 */

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** One listening address and the upstream it forwards to (a proxy instance may hold several, as weft's sidecar A serves both the one-hop and the two-hop route). */
export interface Route {
  readonly listen: Address;
  readonly upstream: Address;
}

export interface PeerConfigSpec {
  readonly routes: readonly Route[];
  /** Where the file, the pid file, the error log and nginx's temp folders go. */
  readonly dir: string;
}

const KEEPALIVE_REQUESTS = 10_000_000;

/** nginx ≥ 1.15.3 (upstream keepalive_requests/keepalive_timeout); run as `nginx -p dir -c file -e stderr`. */
export function nginxConfig(spec: PeerConfigSpec): string {
  const { routes, dir } = spec;
  const upstreams = routes.map((r, i) => `  upstream app${i} {
    server ${r.upstream.host}:${r.upstream.port};
    keepalive 256;
    keepalive_requests ${KEEPALIVE_REQUESTS};
    keepalive_timeout 300s;
  }
`).join('');
  const servers = routes.map((r, i) => `  server {
    listen ${r.listen.host}:${r.listen.port};
    location / {
      proxy_pass http://app${i};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
    }
  }
`).join('');
  return `# written by bench/compare (weft): nginx as a one-worker reverse proxy
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests ${KEEPALIVE_REQUESTS};
  keepalive_timeout 300s;
${upstreams}${servers}}
`;
}

/** HAProxy ≥ 2.0 (HTX, http-reuse); run in the foreground as `haproxy -db -f file`. */
export function haproxyConfig(spec: PeerConfigSpec): string {
  const proxies = spec.routes.map((r, i) => `
frontend bench${i}
  bind ${r.listen.host}:${r.listen.port}
  default_backend app${i}

backend app${i}
  server app ${r.upstream.host}:${r.upstream.port}
`).join('');
  return `# written by bench/compare (weft): HAProxy as a one-thread reverse proxy
global
  nbthread 1
  maxconn 4096

defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
  http-reuse always
${proxies}`;
}
