/**
 * Reads multi-document YAML (JSON is YAML too) into plain values, remembering where each document and
 * each field was written so problems can name `file:line`.
 *
 * Two parsers, each for what it is good at: js-yaml builds the values (about 10× faster than `yaml` on
 * large inputs, which keeps 10,000 resources well under a second), and `yaml`'s syntax tree is built
 * only for a document that has a problem to place, to find the line of a field. Documents are split
 * on `---` lines first, so each one is parsed (and located) on its own.
 * Documents with anchors go through `yaml` directly: it caps alias expansion ("billion laughs").
 */
import jsYaml from 'js-yaml';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
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

interface Chunk {
  readonly text: string;
  /** 1-based line of the chunk's first line in the file. */
  readonly firstLine: number;
}

const DOC_START = /^---(?:[ \t]|$)/;
const DOC_END = /^\.\.\.[ \t]*$/;
const ANCHOR = /(?:^|[\s[{,:-])&[^\s[\]{},]/;

/** Splits a YAML stream into documents at `---` / `...` lines. */
export function splitDocuments(text: string): Chunk[] {
  const lines = text.split(/\r?\n/);
  const chunks: Chunk[] = [];
  let start = 0;
  let buf: string[] = [];
  const flush = () => {
    if (buf.some((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))) chunks.push({ text: buf.join('\n'), firstLine: start + 1 });
    buf = [];
  };
  lines.forEach((line, i) => {
    if (DOC_START.test(line)) {
      flush();
      start = i;
      buf.push(` ${line.slice(3)}`.replace(/^ +$/, ''));
    } else if (DOC_END.test(line)) {
      flush();
      start = i + 1;
    } else {
      if (buf.length === 0) start = i;
      buf.push(line);
    }
  });
  flush();
  return chunks;
}

function lineOf(lc: LineCounter, offset: number | undefined): number {
  return offset === undefined ? 1 : lc.linePos(offset).line;
}

function walk(doc: Document, lc: LineCounter, path: FieldPath): number {
  let node: unknown = doc.contents;
  let line = lineOf(lc, (doc.contents as Node | null)?.range?.[0]);
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
  return line;
}

/** A locator that builds the syntax tree of the chunk on first use. */
function lazyLocator(chunk: Chunk): (path: FieldPath) => number {
  let tree: { doc: Document; lc: LineCounter } | undefined;
  return (path) => {
    if (tree === undefined) {
      const lc = new LineCounter();
      tree = { doc: parseDocument(chunk.text, { lineCounter: lc, uniqueKeys: false }), lc };
    }
    return walk(tree.doc, tree.lc, path) + chunk.firstLine - 1;
  };
}

function contentLine(chunk: Chunk): number {
  const idx = chunk.text.split('\n').findIndex((l) => l.trim() !== '' && !l.trimStart().startsWith('#') && !l.startsWith('%'));
  return chunk.firstLine + Math.max(0, idx);
}

/** Parses a chunk with `yaml` (used when it has anchors): strict alias limits, precise errors. */
function parseWithTree(chunk: Chunk, file: string, out: ParseResult): void {
  const lc = new LineCounter();
  const doc = parseDocument(chunk.text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const base = chunk.firstLine - 1;
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      out.problems.push({ severity: 'error', file, line: (err.linePos?.[0].line ?? 1) + base, field: '', message: `YAML syntax: ${err.message.split('\n')[0]}` });
    }
    return;
  }
  try {
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value !== null && value !== undefined) {
      out.documents.push({ file, line: contentLine(chunk), value, locate: (p) => walk(doc, lc, p) + base });
    }
  } catch (e) {
    out.problems.push({ severity: 'error', file, line: contentLine(chunk), field: '', message: `YAML: ${(e as Error).message}` });
  }
}

/** Parses every document in `text`. Empty documents (`---` with nothing after it) are skipped. */
export function parseDocuments(text: string, file: string): ParseResult {
  const out: ParseResult = { documents: [], problems: [] };
  for (const chunk of splitDocuments(text)) {
    if (ANCHOR.test(chunk.text)) {
      parseWithTree(chunk, file, out);
      continue;
    }
    let value: unknown;
    try {
      value = jsYaml.load(chunk.text, { schema: jsYaml.CORE_SCHEMA, json: false });
    } catch (e) {
      const err = e as { reason?: string; mark?: { line: number }; message: string };
      const line = chunk.firstLine + (err.mark?.line ?? 0);
      out.problems.push({ severity: 'error', file, line, field: '', message: `YAML syntax: ${err.reason ?? err.message.split('\n')[0]}` });
      continue;
    }
    if (value === null || value === undefined) continue;
    out.documents.push({ file, line: contentLine(chunk), value, locate: lazyLocator(chunk) });
  }
  return out;
}
