/**
 * The external programs the comparison needs (nginx, HAProxy, h2load, wrk, taskset, perf), and jemalloc,
 * which bin/weft.js preloads into the sidecars when the system has it (so that the figures are those of
 * a proxy as shipped). Programs are found on PATH with `command -v`, the library where bin/weft.js
 * looks. Missing ones are installed from Debian with one `apt-get install -y` when running as root,
 * otherwise reported missing so the parts that need them are skipped with a note. Versions are recorded
 * with the results.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export type Tool = 'nginx' | 'haproxy' | 'h2load' | 'wrk' | 'taskset' | 'perf' | 'jemalloc';

const PACKAGE: Record<Tool, string> = { nginx: 'nginx', haproxy: 'haproxy', h2load: 'nghttp2-client', wrk: 'wrk', taskset: 'util-linux', perf: 'linux-perf', jemalloc: 'libjemalloc2' };

/** How each tool prints its version (nginx and wrk on stderr, wrk exiting 1). */
const VERSION: Record<Exclude<Tool, 'jemalloc'>, { args: string[]; pattern: RegExp }> = {
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

/** Where bin/weft.js looks for jemalloc. */
const JEMALLOC = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'].map((d) => `${d}/libjemalloc.so.2`);

function onPath(tool: Tool): boolean {
  if (tool === 'jemalloc') return JEMALLOC.some((p) => existsSync(p));
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function version(tool: Tool): string {
  if (tool === 'jemalloc') {
    const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', PACKAGE.jemalloc], { encoding: 'utf8' });
    return r.status === 0 && r.stdout !== '' ? r.stdout : 'unknown version';
  }
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
