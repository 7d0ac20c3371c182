/**
 * Where configuration comes from: files, directories (recursively: `*.yaml`, `*.yml`, `*.json`, in name
 * order) and standard input (`-`).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseDocuments, type ParseResult, type RawDocument } from './documents.ts';
import type { ConfigProblem } from '../errors.ts';

const CONFIG_FILE = /\.(ya?ml|json)$/i;

async function listDir(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listDir(p)));
    else if (CONFIG_FILE.test(e.name)) out.push(p);
  }
  return out;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

/** How a file is named in messages: relative to the working directory when inside it. */
export function displayName(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}

/**
 * Reads every document from `inputs`. A path that does not exist or cannot be read becomes a problem,
 * not an exception, so one bad argument does not hide the results for the others.
 */
export async function loadInputs(inputs: readonly string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<ParseResult> {
  const documents: RawDocument[] = [];
  const problems: ConfigProblem[] = [];
  const add = (r: ParseResult) => {
    documents.push(...r.documents);
    problems.push(...r.problems);
  };
  for (const input of inputs) {
    if (input === '-') {
      add(parseDocuments(await readStdin(stdin), '<stdin>'));
      continue;
    }
    try {
      const st = await stat(input);
      const files = st.isDirectory() ? await listDir(input) : [input];
      for (const f of files) add(parseDocuments(await readFile(f, 'utf8'), displayName(f)));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
      problems.push({ severity: 'error', file: displayName(input), line: 0, field: '', message: `cannot read: ${why}` });
    }
  }
  return { documents, problems };
}
