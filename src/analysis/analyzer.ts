/**
 * The analyzer contract. An analyzer is a pure function of the `AnalysisContext` that reports findings
 * through `report`; it never throws for bad input (validation already ran) and never mutates the context.
 * Analyzers are listed in one visible array (`analyzers/index.ts`), run in that order.
 */
import type { AnyResource, FieldPath } from '../api/index.ts';
import type { AnalysisContext } from './context.ts';
import type { MessageType } from './messages.ts';

export interface Finding {
  readonly type: MessageType;
  readonly message: string;
  /** The resource the finding is about; the message is placed on it. */
  readonly resource: AnyResource;
  /** The field within it (for the line number and the `field` output). */
  readonly path?: FieldPath;
}

export type Report = (finding: Finding) => void;

export interface Analyzer {
  /** Stable kebab-case name (`destination-host`), shown by `weft analyze --list-analyzers`. */
  readonly name: string;
  /** One line: what it checks. */
  readonly description: string;
  readonly run: (ctx: AnalysisContext, report: Report) => void;
}
