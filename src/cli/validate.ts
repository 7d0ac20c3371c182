/** `weft validate`: schema and rule validation of Istio config files, like `istioctl validate`. */
import { Option, type Command } from 'commander';
import { loadConfig, formatProblem, type ConfigProblem } from '../api/index.ts';
import { collect, EXIT, type Io } from './io.ts';

interface Options {
  filename: string[];
  output: 'text' | 'json';
  namespace?: string;
  verbose?: boolean;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function line(p: ConfigProblem): string {
  return p.severity === 'error' ? formatProblem(p) : formatProblem({ ...p, message: `${p.severity}: ${p.message}` });
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('validate')
    .summary('check Istio config files against the API schema and Istio\'s rules')
    .description('Validate Istio configuration (YAML or JSON files, directories, or - for stdin). Every problem is reported with file:line, resource, field path and the offending value. Exit code 1 when any error is found.')
    .requiredOption('-f, --filename <path>', 'file, directory or - (repeatable)', collect)
    .option('-n, --namespace <ns>', 'namespace for resources that do not set one', 'default')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--verbose', 'also list the Kubernetes objects (Deployments…) that were skipped')
    .action(async (opts: Options) => {
      const set = await loadConfig(opts.filename, { defaultNamespace: opts.namespace ?? 'default', stdin: io.stdin });
      const errors = set.problems.filter((p) => p.severity === 'error');
      const warnings = set.problems.filter((p) => p.severity === 'warning');
      const skipped = set.problems.filter((p) => p.severity === 'info');
      if (opts.output === 'json') {
        io.stdout.write(`${JSON.stringify({ valid: errors.length === 0, documents: set.documents, resources: set.resources.length, errors, warnings, skipped: set.problems.filter((p) => p.severity === 'info') }, null, 2)}\n`);
      } else {
        for (const p of set.problems) if (p.severity !== 'info' || opts.verbose) io.stdout.write(`${line(p)}\n`);
        const also = [
          ...(warnings.length ? [plural(warnings.length, 'warning')] : []),
          ...(skipped.length ? [`${skipped.length} Kubernetes object${skipped.length === 1 ? '' : 's'} skipped${opts.verbose ? '' : ' (--verbose lists them)'}`] : []),
        ];
        const summary = errors.length === 0
          ? `✔ ${plural(set.resources.length, 'resource')} valid${also.length ? `, ${also.join(', ')}` : ''}`
          : `✘ ${plural(errors.length, 'error')}${also.length ? `, ${also.join(', ')}` : ''} in ${plural(set.documents, 'document')}`;
        io.stdout.write(`${summary}\n`);
      }
      setExit(errors.length === 0 ? EXIT.ok : EXIT.problems);
    });
}
