/**
 * `weft analyze`: cross-resource checks with Istio's message codes, like `istioctl analyze`.
 * Exit code 1 when a message at or above `--failure-threshold` (default Error) is found.
 */
import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfig } from '../api/index.ts';
import { analyze, ANALYZERS, atLeast, formatDiagnostic, type Diagnostic, type Level } from '../analysis/index.ts';
import { collect, EXIT, type Io } from './io.ts';

interface Options {
  filename: string[];
  namespace: string;
  output: 'log' | 'json' | 'yaml';
  outputThreshold: Level;
  failureThreshold: Level;
  listAnalyzers?: boolean;
}

const LEVELS: readonly Level[] = ['Error', 'Warning', 'Info'];

function level(v: string): Level {
  const l = LEVELS.find((x) => x.toLowerCase() === v.toLowerCase());
  if (l === undefined) throw new Error(`level must be one of ${LEVELS.join(', ')} (got ${JSON.stringify(v)})`);
  return l;
}

/** Structured form for -o json|yaml, with istioctl's field names. */
function structured(d: Diagnostic) {
  return {
    code: d.type.code, name: d.type.name, level: d.type.level, message: d.message,
    ...(d.resource !== undefined ? { resource: d.resource } : {}), ...(d.file !== undefined ? { origin: `${d.file}:${d.line ?? 0}` } : {}),
    ...(d.field !== undefined ? { field: d.field } : {}),
    documentationUrl: `https://istio.io/latest/docs/reference/config/analysis/${d.type.code.toLowerCase()}/`,
  };
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('analyze')
    .summary('find problems across Istio config: missing hosts and subsets, conflicts, mTLS mismatches')
    .description('Analyze Istio configuration as a whole, reporting Istio\'s message codes (IST0101 ReferencedResourceNotFound, IST0109, IST0113, …). Kubernetes manifests in the input (Deployments, Pods) tell weft which workloads exist.')
    .option('-f, --filename <path>', 'file, directory or - (repeatable)', collect, [])
    .option('-n, --namespace <ns>', 'namespace for resources that do not set one', 'default')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['log', 'json', 'yaml']).default('log'))
    .option('--output-threshold <level>', 'lowest level printed: Error, Warning or Info', level, 'Info' as Level)
    .option('--failure-threshold <level>', 'lowest level that makes the exit code 1', level, 'Error' as Level)
    .option('-L, --list-analyzers', 'list the analyzers and exit')
    .action(async (opts: Options) => {
      if (opts.listAnalyzers) {
        for (const a of ANALYZERS) io.stdout.write(`${a.name.padEnd(26)} ${a.description}\n`);
        return;
      }
      if (opts.filename.length === 0) {
        io.stderr.write('weft analyze: give the config to analyze with -f FILE|DIR|- (repeatable)\n');
        setExit(EXIT.usage);
        return;
      }
      const set = await loadConfig(opts.filename, { defaultNamespace: opts.namespace, stdin: io.stdin });
      const all = analyze(set);
      const shown = all.filter((d) => atLeast(d.type.level, opts.outputThreshold));
      if (opts.output === 'json') io.stdout.write(`${JSON.stringify(shown.map(structured), null, 2)}\n`);
      else if (opts.output === 'yaml') io.stdout.write(stringify(shown.map(structured)));
      else if (shown.length === 0) io.stdout.write(`✔ No validation issues found when analyzing ${set.documents} document${set.documents === 1 ? '' : 's'}.\n`);
      else for (const d of shown) io.stdout.write(`${formatDiagnostic(d)}\n`);
      setExit(all.some((d) => atLeast(d.type.level, opts.failureThreshold)) ? EXIT.problems : EXIT.ok);
    });
}
