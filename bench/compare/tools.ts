/**
 * The external programs the comparison needs (nginx, HAProxy, h2load, wrk, taskset, perf): found on PATH with
 * `command -v`, installed from Debian with one `apt-get install -y` when missing and running as root,
 * otherwise reported missing so the parts that need them are skipped with a note. Versions are recorded
 * with the results.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export type Tool = 'nginx' | 'haproxy' | 'h2load' | 'wrk' | 'taskset' | 'perf';

const PACKAGE: Record<Tool, string> = { nginx: 'nginx', haproxy: 'haproxy', h2load: 'nghttp2-client', wrk: 'wrk', taskset: 'util-linux', perf: 'linux-perf' };

/** How each tool prints its version (nginx and wrk on stderr, wrk exiting 1). */
const VERSION: Record<Tool, { args: string[]; pattern: RegExp }> = {
  nginx: { args: ['-v'], pattern: /nginx\/(\S+)/ },
  haproxy: { args: ['-v'], pattern: /HAProxy version (\S+)/ },
  h2load: { args: ['--version'], pattern: /nghttp2\/(\S+)/ },
  wrk: { args: ['-v'], pattern: /wrk (\S+)/ },
  taskset: { args: ['--version'], pattern: /util-linux (\S+)/ },
  perf: { args: ['--version'], pattern: /perf version (\S+)/ },
};

export interface ToolStatus {
  readonly available: boolean;
  /** The version, or why the tool is missing. */
  readonly version: string;
}

export interface Tools {
  readonly status: Readonly<Partial<Record<Tool, ToolStatus>>>;
  /** What was installed (or could not be), for the report. */
  readonly note: string;
}

function onPath(tool: Tool): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function version(tool: Tool): string {
  const r = spawnSync(tool, VERSION[tool].args, { encoding: 'utf8' });
  return VERSION[tool].pattern.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? 'unknown version';
}

/** Finds `wanted`, installing the missing ones (one apt-get call) when root. */
export function ensureTools(wanted: readonly Tool[]): Tools {
  const missing = wanted.filter((t) => !onPath(t));
  let note = missing.length === 0 ? 'all found on PATH' : '';
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((t) => PACKAGE[t]))];
    if (process.getuid?.() !== 0) {
      note = `missing ${missing.join(', ')} (not root, so not installing ${packages.join(' ')}): the parts needing them are skipped`;
    } else {
      console.log(`installing ${packages.join(' ')}: apt-get install -y ${packages.join(' ')}`);
      try {
        execFileSync('apt-get', ['install', '-y', ...packages], { stdio: 'ignore', timeout: 300_000 });
        note = `installed by this run: apt-get install -y ${packages.join(' ')}`;
      } catch (e) {
        note = `apt-get install -y ${packages.join(' ')} failed (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
      }
    }
  }
  const status: Partial<Record<Tool, ToolStatus>> = {};
  for (const t of wanted) status[t] = onPath(t) ? { available: true, version: version(t) } : { available: false, version: 'missing' };
  return { status, note };
}

export function has(tools: Tools, tool: Tool): boolean {
  return tools.status[tool]?.available === true;
}
