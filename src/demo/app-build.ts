/**
 * The bookinfo apps as plain JavaScript for the demo: each `.ts` file of `samples/bookinfo/` with its
 * types stripped by Node's own stripper (`module.stripTypeScriptTypes`, the same transform Node applies
 * when it runs a `.ts` file) and its relative `.ts` imports pointed at the `.js` copies. Why: a Node
 * process that runs a `.ts` file loads the type stripper (a WebAssembly module) first, which costs each
 * app ~30 MB of memory and ~150 ms of CPU at start — six apps, 180 MB and most of a second on two cores.
 * Stripping in 'strip' mode keeps every line and column, so stack traces still point at the sources.
 *
 * Precondition: the apps import each other with relative specifiers ending in `.ts` (the repo's
 * convention). Anything else is left as it is.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative } from 'node:path';

const RELATIVE_TS_IMPORT = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"\n]*?)\.ts\2/g;

/** `.ts` files under `dir`, recursively, without tests. */
async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(path)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Strips one module's types; its relative `.ts` imports become `.js`. */
export function stripModule(code: string): string {
  return withoutExperimentalWarning(() => stripTypeScriptTypes(code, { mode: 'strip' })).replace(RELATIVE_TS_IMPORT, '$1$2$3.js$2');
}

/** Writes the JavaScript copies of `srcDir`'s `.ts` files under `outDir` (same relative paths, `.js`). */
export async function buildApps(srcDir: string, outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}\n');
  for (const file of await sources(srcDir)) {
    const target = join(outDir, relative(srcDir, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, stripModule(await readFile(file, 'utf8')));
  }
}

/** Runs `fn` without the "stripTypeScriptTypes is an experimental feature" warning on the user's terminal. */
function withoutExperimentalWarning<T>(fn: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (!text.includes('stripTypeScriptTypes')) (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return fn();
  } finally {
    process.emitWarning = emit;
  }
}
