/**
 * `weft get KIND [NAME] [-n NS | -A] [-o yaml|json]`: the config in force in `weft control`, as
 * kubectl shows it — a table with each kind's key columns (the printer columns of Istio's CRDs) and
 * AGE, or the resources themselves as YAML or JSON.
 */
import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { kindByCliName, type AnyResource } from '../api/index.ts';
import { EXIT, type Io } from './io.ts';
import { addControlOption, callControl, controlUrl, guarded, reportApiError, type ApiError, type ControlOption } from './control-client.ts';

interface Options extends ControlOption {
  namespace: string;
  allNamespaces?: boolean;
  output?: 'yaml' | 'json' | 'wide';
}

type Shown = AnyResource & { metadata: { creationTimestamp?: string } };
interface ListAnswer { readonly items: readonly Shown[] }

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  const cmd = program
    .command('get')
    .summary('list config in force in weft control (like kubectl get)')
    .description('Show resources of one kind (vs, virtualservices, VirtualService, dr, gw, se, svc…) held by the running control plane: a table by default, or the resources as YAML or JSON.')
    .argument('<kind>', 'kind, plural or short name (vs, dr, gw, se, we, svc…)')
    .argument('[name]', 'one resource by name')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-A, --all-namespaces', 'every namespace')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']));
  addControlOption(cmd).action((kind: string, name: string | undefined, opts: Options) => guarded(io, setExit, async () => {
    const def = kindByCliName(kind);
    if (def === undefined) {
      io.stderr.write(`error: the server doesn't have a resource type ${JSON.stringify(kind)}\n`);
      return EXIT.problems;
    }
    const query = new URLSearchParams();
    if (!opts.allNamespaces) query.set('namespace', opts.namespace);
    if (name !== undefined) query.set('name', name);
    const res = await callControl<ListAnswer | ApiError>(controlUrl(opts.control), 'GET', `/resources/${def.plural}?${query}`);
    if (res.status !== 200 || !('items' in res.body)) {
      const err = res.body as ApiError;
      if (err.code !== 'NOT_FOUND') return reportApiError(io, err);
      io.stderr.write(`Error from server (NotFound): ${err.error}\n`);
      return EXIT.problems;
    }
    const items = res.body.items;
    if (opts.output !== undefined) {
      const value = name !== undefined && items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items };
      io.stdout.write(opts.output === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value));
      return EXIT.ok;
    }
    if (items.length === 0) {
      io.stderr.write(opts.allNamespaces || !def.namespaced ? 'No resources found\n' : `No resources found in ${opts.namespace} namespace.\n`);
      return EXIT.ok;
    }
    io.stdout.write(table(items, def.namespaced && opts.allNamespaces === true, Date.now()));
    return EXIT.ok;
  }));
}

/** Key columns per kind: the `additionalPrinterColumns` of Istio's CRDs, and kubectl's for Service. */
const COLUMNS: Readonly<Record<string, readonly (readonly [string, (r: AnyResource) => unknown])[]>> = {
  VirtualService: [['GATEWAYS', (r) => spec(r)['gateways']], ['HOSTS', (r) => spec(r)['hosts']]],
  DestinationRule: [['HOST', (r) => spec(r)['host']]],
  ServiceEntry: [['HOSTS', (r) => spec(r)['hosts']], ['LOCATION', (r) => spec(r)['location']], ['RESOLUTION', (r) => spec(r)['resolution']]],
  WorkloadEntry: [['ADDRESS', (r) => spec(r)['address']]],
  PeerAuthentication: [['MODE', (r) => (spec(r)['mtls'] as { mode?: string } | undefined)?.mode]],
  AuthorizationPolicy: [['ACTION', (r) => spec(r)['action']]],
  Service: [
    ['TYPE', (r) => spec(r)['type'] ?? 'ClusterIP'],
    ['CLUSTER-IP', (r) => spec(r)['clusterIP'] ?? '<none>'],
    ['PORT(S)', (r) => ((spec(r)['ports'] ?? []) as { port: number; protocol?: string }[]).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',')],
  ],
};

function spec(r: AnyResource): Record<string, unknown> {
  return (r.spec ?? {}) as Record<string, unknown>;
}

/** kubectl prints list columns of CRDs as JSON (`["reviews"]`), empty ones as blank. */
function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function table(items: readonly Shown[], withNamespace: boolean, now: number): string {
  const extra = COLUMNS[items[0]?.kind ?? ''] ?? [];
  const header = [...(withNamespace ? ['NAMESPACE'] : []), 'NAME', ...extra.map(([h]) => h), 'AGE'];
  const rows = items.map((r) => [
    ...(withNamespace ? [r.metadata.namespace] : []),
    r.metadata.name,
    ...extra.map(([, get]) => cell(get(r))),
    age(r.metadata.creationTimestamp, now),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/** kubectl's HumanDuration: `45s`, `3m20s`, `17m`, `5h12m`, `30h`, `3d4h`, `120d`, `2y`. */
export function age(since: string | undefined, now: number): string {
  const t = since === undefined ? NaN : Date.parse(since);
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (h < 3) return `${m}m`;
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}
