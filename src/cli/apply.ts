/**
 * `weft apply -f FILE|DIR|-`: validate locally (refusing invalid input with the validator's messages),
 * then send the resources to `weft control`, which answers per resource, printed kubectl-style:
 * `virtualservice.networking.istio.io/reviews configured`.
 */
import type { Command } from 'commander';
import { loadConfig, formatProblem, type AnyResource, type ConfigSet } from '../api/index.ts';
import { collect, EXIT, type Io } from './io.ts';
import { addControlOption, callControl, controlUrl, guarded, reportApiError, resourceRef, type ApiError, type ControlOption } from './control-client.ts';

interface Options extends ControlOption {
  filename: string[];
  namespace: string;
}

interface ApplyAnswer {
  readonly results: readonly { kind: string; name: string; action: string }[];
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  const cmd = program
    .command('apply')
    .summary('apply Istio config to weft control (like kubectl apply)')
    .description('Validate configuration files, directories or - (stdin) and apply them to the running control plane. Invalid input is refused with every problem and nothing is applied. Applied config persists across control-plane restarts.')
    .requiredOption('-f, --filename <path>', 'file, directory or - (repeatable)', collect)
    .option('-n, --namespace <ns>', 'namespace for resources that do not set one', 'default');
  addControlOption(cmd).action((opts: Options) => guarded(io, setExit, async () => {
    const set = await loadConfig(opts.filename, { defaultNamespace: opts.namespace, stdin: io.stdin });
    const usable = checkLocally(set, io, 'applied');
    if (usable === undefined) return EXIT.problems;
    const res = await callControl<ApplyAnswer | ApiError>(controlUrl(opts.control), 'POST', '/apply', JSON.stringify(usable.map(withoutSource)));
    if (res.status !== 200 || !('results' in res.body)) return reportApiError(io, res.body as ApiError);
    for (const r of res.body.results) io.stdout.write(`${resourceRef(r.kind, r.name)} ${r.action}\n`);
    for (const f of set.foreign) io.stdout.write(`${foreignRef(f.apiVersion, f.kind, f.name)} skipped (weft does not read ${f.kind})\n`);
    return EXIT.ok;
  }));
}

/** `deployment.apps/reviews-v1` for objects weft skips. */
function foreignRef(apiVersion: string, kind: string, name: string): string {
  const slash = apiVersion.lastIndexOf('/');
  return `${kind.toLowerCase()}${slash < 0 ? '' : `.${apiVersion.slice(0, slash)}`}/${name}`;
}

/**
 * Prints warnings, and errors if any (then returns undefined: nothing may be sent). Shared by apply and
 * delete -f, which both refuse invalid input.
 */
export function checkLocally(set: ConfigSet, io: Io, verb: string): AnyResource[] | undefined {
  const errors = set.problems.filter((p) => p.severity === 'error');
  for (const p of set.problems) if (p.severity === 'warning') io.stderr.write(`${formatProblem({ ...p, message: `warning: ${p.message}` })}\n`);
  if (errors.length > 0) {
    for (const p of errors) io.stderr.write(`${formatProblem(p)}\n`);
    io.stderr.write(`✘ ${errors.length} error${errors.length === 1 ? '' : 's'}: nothing was ${verb}\n`);
    return undefined;
  }
  if (set.resources.length === 0) {
    io.stderr.write(`error: no objects passed to ${verb === 'applied' ? 'apply' : 'delete'}\n`);
    return undefined;
  }
  return set.resources;
}

export function withoutSource(r: AnyResource): Omit<AnyResource, 'source'> {
  const { source: _s, ...rest } = r;
  return rest;
}
