/**
 * Reads multi-document YAML (JSON is YAML too) into plain values, remembering where each document and
 * each field was written so problems can name `file:line`. Line lookup walks the YAML syntax tree only
 * when a problem is reported, so valid input pays nothing for it.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import type { ConfigProblem, FieldPath } from '../errors.ts';

/** One YAML document: its value and a way to find the line of any field in it. */
export interface RawDocument {
  readonly file: string;
  /** 1-based line where the document's content starts. */
  readonly line: number;
  readonly value: unknown;
  /** 1-based line of the field at `path` (its key when it is a map entry), or the nearest enclosing node's. */
  readonly locate: (path: FieldPath) => number;
}

export interface ParseResult {
  readonly documents: RawDocument[];
  /** Syntax errors (with their lines); the documents that did parse are still returned. */
  readonly problems: ConfigProblem[];
}

function lineOf(lc: LineCounter, offset: number | undefined): number {
  return offset === undefined ? 1 : lc.linePos(offset).line;
}

function locator(doc: Document, lc: LineCounter, fallback: number): (path: FieldPath) => number {
  return (path) => {
    let node: unknown = doc.contents;
    let line = fallback;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair === undefined) return line;
        line = lineOf(lc, (pair.key as Node).range?.[0]);
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (item === undefined) return line;
        line = lineOf(lc, item.range?.[0]);
        node = item;
      } else {
        return line;
      }
    }
    if (path.length === 0 && node !== null && typeof node === 'object' && 'range' in node) {
      return lineOf(lc, (node as Node).range?.[0]);
    }
    return line;
  };
}

/** Parses every document in `text`. Empty documents (`---` with nothing after it) are skipped. */
export function parseDocuments(text: string, file: string): ParseResult {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const documents: RawDocument[] = [];
  const problems: ConfigProblem[] = [];
  if (!Array.isArray(docs)) return { documents, problems }; // an empty stream
  for (const doc of docs) {
    const start = lineOf(lc, doc.contents?.range?.[0] ?? doc.range[0]);
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        problems.push({ severity: 'error', file, line: err.linePos?.[0].line ?? start, field: '', message: `YAML syntax: ${err.message.split('\n')[0]}` });
      }
      continue;
    }
    if (doc.contents === null) continue;
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    documents.push({ file, line: start, value, locate: locator(doc, lc, start) });
  }
  return { documents, problems };
}
