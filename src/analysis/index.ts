/**
 * Cross-resource analysis, like `istioctl analyze`: schema problems become IST0106/IST0133 messages,
 * then every analyzer runs over the valid resources. Entry point for the CLI and (later) the control plane.
 */
import { formatPath, type ConfigProblem } from '../api/index.ts';
import type { ConfigSet } from '../api/index.ts';
import type { Analyzer, Finding } from './analyzer.ts';
import { ANALYZERS } from './analyzers/index.ts';
import { AnalysisContext } from './context.ts';
import { MSG, type Diagnostic } from './messages.ts';

export interface AnalyzeOptions {
  /** Analyzers to run (default: all). */
  readonly analyzers?: readonly Analyzer[];
}

function fromProblem(p: ConfigProblem): Diagnostic | undefined {
  if (p.severity === 'info') return undefined;
  const type = p.severity === 'error' ? MSG.SchemaValidationError : MSG.SchemaWarning;
  const label = p.severity === 'error' ? 'Schema validation error' : 'Schema validation warning';
  return {
    type, message: `${label}: ${p.field ? `${p.field}: ` : ''}${p.message}`,
    ...(p.resource !== undefined ? { resource: p.resource } : {}), file: p.file, line: p.line, ...(p.field ? { field: p.field } : {}),
  };
}

/** Runs validation findings and analyzers over a loaded config set. Sorted by file, line, code. */
export function analyze(set: ConfigSet, opts: AnalyzeOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const p of set.problems) {
    const d = fromProblem(p);
    if (d !== undefined) out.push(d);
  }
  const ctx = new AnalysisContext(set.resources, set.foreign);
  const seen = new Set<string>();
  const report = (f: Finding) => {
    const r = f.resource;
    const path = f.path ?? [];
    const d: Diagnostic = {
      type: f.type, message: f.message,
      resource: `${r.kind} ${r.kind === 'Namespace' ? r.metadata.name : `${r.metadata.namespace}/${r.metadata.name}`}`,
      ...(r.source !== undefined ? { file: r.source.file, line: set.locate(r, path) } : {}),
      ...(path.length > 0 ? { field: formatPath(path) } : {}),
    };
    const key = `${d.type.code}|${d.resource}|${d.field ?? ''}|${d.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(d);
  };
  for (const a of opts.analyzers ?? ANALYZERS) a.run(ctx, report);
  return out.sort((a, b) => (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || a.type.code.localeCompare(b.type.code));
}

export { ANALYZERS } from './analyzers/index.ts';
export { MSG, formatDiagnostic, atLeast, type Diagnostic, type Level, type MessageType } from './messages.ts';
export type { Analyzer } from './analyzer.ts';
