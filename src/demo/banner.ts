/**
 * What `weft demo` prints once the mesh is up: the start-up time and memory, where everything is, and
 * the next commands to try (Istio's traffic-management tasks with Istio's files, as in the README's
 * walk-through).
 */
import { readFileSync } from 'node:fs';
import type { Demo } from './demo.ts';

const DEFAULT_HTTP_API = '127.0.0.1:15014';

/** Resident memory of a process in bytes (Linux `/proc`), undefined elsewhere or when it is gone. */
export function rssOf(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** RSS of the demo process and of its apps, in bytes (undefined where `/proc` is missing). */
export function demoMemory(demo: Demo): { readonly weft: number; readonly apps: number } | undefined {
  const weft = rssOf(process.pid);
  if (weft === undefined) return undefined;
  let apps = 0;
  for (const w of demo.workloads) apps += (w.app?.pid === undefined ? undefined : rssOf(w.app.pid)) ?? 0;
  return { weft, apps };
}

/** The README walk-through's steps: Istio's task files and what each shows. */
const TASKS: readonly (readonly [string, string])[] = [
  ['virtual-service-all-v1.yaml', 'request routing: everyone gets reviews v1 (no stars)'],
  ['virtual-service-reviews-test-v2.yaml', 'jason gets v2 (black stars), others v1'],
  ['virtual-service-ratings-test-delay.yaml', 'fault injection: jason waits ~6 s, "Error fetching product reviews"'],
  ['virtual-service-ratings-test-abort.yaml', 'jason: "Ratings service is currently unavailable"'],
  ['virtual-service-all-v1.yaml', 'traffic shifting: back to v1'],
  ['virtual-service-reviews-50-v3.yaml', 'half v1, half v3 (red stars)'],
  ['virtual-service-reviews-v3.yaml', 'all v3 (red stars)'],
];

const mb = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MB`;

export function banner(demo: Demo, opts: { readonly gatewayPort: number; readonly gatewayAddress: string; readonly xdsHost: string }): string {
  const api = demo.control.http.url.replace(/^http:\/\//, '').replace(/\/$/, '');
  const control = api === DEFAULT_HTTP_API ? '' : ` --control ${api}`;
  const mem = demoMemory(demo);
  const pageUrl = opts.gatewayAddress === '127.0.0.1' ? `http://localhost:${opts.gatewayPort}/productpage` : demo.productPageUrl;
  const sidecars = demo.workloads.map((w) => `${w.bootstrap.name} ${w.bootstrap.ip}`).join(', ');
  const tasks = TASKS.map(([file, what]) => [`  npx weft apply${control} -f samples/bookinfo/networking/${file}`, what] as const);
  const width = Math.max(...tasks.map(([cmd]) => cmd.length)) + 2;
  return [
    '',
    `weft demo: bookinfo is up in ${(demo.startupMs / 1000).toFixed(1)} s (process start to the first complete product page through the gateway)${mem === undefined ? '' : `; memory ${mb(mem.weft + mem.apps)} RSS (weft ${mb(mem.weft)}, apps ${mb(mem.apps)})`}`,
    '',
    `  Product page      ${pageUrl}   (sign in as jason, any password)`,
    `  Ingress gateway   ${opts.gatewayAddress}:${opts.gatewayPort} (istio-system/istio-ingressgateway; admin ${demo.gateway.urls.admin})`,
    `  Control plane     xDS ${opts.xdsHost}:${demo.control.xdsPort}, HTTP API ${demo.control.http.url.replace(/\/$/, '')} (state in ${demo.dir}/state)`,
    `  Sidecars          ${sidecars} (admin on <address>:15000)`,
    '',
    'Istio\'s traffic-management tasks, with Istio\'s own files (in another terminal):',
    ...tasks.map(([cmd, what]) => `${cmd.padEnd(width)}# ${what}`),
    `  npx weft get vs${control}`,
    `  curl -s ${demo.control.http.url.replace(/\/$/, '')}/debug/syncz`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}
