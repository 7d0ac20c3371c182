/**
 * `weft delete -f FILE|DIR|-` and `weft delete KIND NAME… [-n NS]`: remove applied config from
 * `weft control`, kubectl-style (`virtualservice.networking.istio.io "reviews" deleted`). Resources that
 * come from a watched `--config` directory cannot be deleted here: the file is their source of truth.
 */
import type { Command } from 'commander';
import { kindByCliName, loadConfig } from '../api/index.ts';
import { EXIT, collect, type Io } from './io.ts';
import { addControlOption, callControl, controlUrl, guarded, kindRef, reportApiError, type ApiError, type ControlOption } from './control-client.ts';
import { checkLocally, withoutSource } from './apply.ts';

interface Options extends ControlOption {
  filename?: string[];
  namespace: string;
}

interface DeleteResult {
  readonly kind: string;
  readonly name: string;
  readonly action: 'deleted' | 'not-found' | 'defined-in-file';
  readonly file?: string;
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  const cmd = program
    .command('delete')
    .summary('delete applied config from weft control (like kubectl delete)')
    .description('Delete the resources named in files (-f, validated first) or by kind and name from the running control plane.')
    .argument('[kind]', 'kind, plural or short name (vs, dr, gw, se…)')
    .argument('[names...]', 'resource names')
    .option('-f, --filename <path>', 'file, directory or - (repeatable)', collect)
    .option('-n, --namespace <ns>', 'namespace', 'default');
  addControlOption(cmd).action((kind: string | undefined, names: string[], opts: Options) => guarded(io, setExit, async () => {
    if (opts.filename !== undefined && kind !== undefined) return usage(io, 'use either -f FILE or KIND NAME, not both');
    if (opts.filename !== undefined) return deleteFiles(io, opts);
    if (kind === undefined || names.length === 0) return usage(io, 'name what to delete: -f FILE, or KIND NAME');
    return deleteNamed(io, opts, kind, names);
  }));
}

function usage(io: Io, message: string): number {
  io.stderr.write(`error: ${message} (run "weft delete --help" for usage)\n`);
  return EXIT.usage;
}

async function deleteFiles(io: Io, opts: Options): Promise<number> {
  const set = await loadConfig(opts.filename ?? [], { defaultNamespace: opts.namespace, stdin: io.stdin });
  const resources = checkLocally(set, io, 'deleted');
  if (resources === undefined) return EXIT.problems;
  const res = await callControl<{ results: DeleteResult[] } | ApiError>(controlUrl(opts.control), 'POST', '/delete', JSON.stringify(resources.map(withoutSource)));
  if (res.status !== 200 || !('results' in res.body)) return reportApiError(io, res.body as ApiError);
  let code: number = EXIT.ok;
  for (const r of res.body.results) if (!printResult(io, r)) code = EXIT.problems;
  return code;
}

async function deleteNamed(io: Io, opts: Options, kind: string, names: readonly string[]): Promise<number> {
  const def = kindByCliName(kind);
  if (def === undefined) {
    io.stderr.write(`error: the server doesn't have a resource type ${JSON.stringify(kind)}\n`);
    return EXIT.problems;
  }
  let code: number = EXIT.ok;
  for (const name of names) {
    const path = def.namespaced
      ? `/resources/${def.plural}/${encodeURIComponent(opts.namespace)}/${encodeURIComponent(name)}`
      : `/resources/${def.plural}/${encodeURIComponent(name)}`;
    const res = await callControl<{ results: DeleteResult[] } | ApiError>(controlUrl(opts.control), 'DELETE', path);
    if (res.status === 200 && 'results' in res.body) {
      for (const r of res.body.results) printResult(io, r);
      continue;
    }
    const err = res.body as ApiError;
    if (err.code === 'NOT_FOUND') io.stderr.write(`Error from server (NotFound): ${err.error}\n`);
    else reportApiError(io, err);
    code = EXIT.problems;
  }
  return code;
}

/** Prints one result kubectl-style; false when it is a failure. */
function printResult(io: Io, r: DeleteResult): boolean {
  const what = `${kindRef(r.kind)} ${JSON.stringify(r.name)}`;
  if (r.action === 'deleted') {
    io.stdout.write(`${what} deleted${r.file === undefined ? '' : ` (the definition in ${r.file} is in force again)`}\n`);
    return true;
  }
  if (r.action === 'not-found') io.stderr.write(`Error from server (NotFound): ${kindRef(r.kind, true)} ${JSON.stringify(r.name)} not found\n`);
  else io.stderr.write(`error: ${what} is defined in the watched file ${r.file}: edit or remove the file instead\n`);
  return false;
}
