/**
 * The config API's public entry: read files/directories/stdin and validate every document. Other parts
 * (control plane, analyzers, CLI) import from here, not from the modules behind it.
 */
import { loadInputs } from './source/files.ts';
import { parseDocuments } from './source/documents.ts';
import { validateDocument, type ForeignObject, type ValidateOptions } from './validate.ts';
import type { AnyResource } from './kinds/index.ts';
import type { ConfigProblem } from './errors.ts';
import type { RawDocument } from './source/documents.ts';

export interface ConfigSet {
  /** Every valid resource, in input order. */
  readonly resources: AnyResource[];
  /** Every problem (syntax, schema, rules), in input order. */
  readonly problems: ConfigProblem[];
  /** Objects of kinds weft does not read (Deployments, EnvoyFilters…), for analyzers. */
  readonly foreign: ForeignObject[];
  /** How many documents were read (valid or not). */
  readonly documents: number;
  /** The line of a field of one of `resources` (its document's line when unknown). */
  readonly locate: (resource: object, path: readonly (string | number)[]) => number;
}

function validateAll(docs: readonly RawDocument[], problems: ConfigProblem[], opts: ValidateOptions): ConfigSet {
  const resources: AnyResource[] = [];
  const foreign: ForeignObject[] = [];
  const locators = new WeakMap<object, (path: readonly (string | number)[]) => number>();
  const all = [...problems];
  let documents = 0;
  for (const doc of docs) {
    for (const r of validateDocument(doc, opts)) {
      documents++;
      if (r.resource !== undefined) resources.push(r.resource);
      if (r.resource !== undefined && r.locate !== undefined) locators.set(r.resource, r.locate);
      if (r.foreign !== undefined) foreign.push(r.foreign);
      all.push(...r.problems);
    }
  }
  const locate = (resource: object, path: readonly (string | number)[]): number =>
    locators.get(resource)?.(path) ?? (resource as { source?: { line: number } }).source?.line ?? 0;
  return { resources, foreign, problems: all, documents, locate };
}

/** Reads and validates `inputs` (paths, directories, `-` for stdin). */
export async function loadConfig(inputs: readonly string[], opts: ValidateOptions & { stdin?: NodeJS.ReadableStream } = {}): Promise<ConfigSet> {
  const parsed = await loadInputs(inputs, opts.stdin);
  return validateAll(parsed.documents, parsed.problems, opts);
}

/** Parses and validates YAML/JSON text (what `weft apply` sends to the control plane). */
export function parseConfig(text: string, file: string, opts: ValidateOptions = {}): ConfigSet {
  const parsed = parseDocuments(text, file);
  return validateAll(parsed.documents, parsed.problems, opts);
}

export type { ForeignObject } from './validate.ts';
export type { RawDocument } from './source/documents.ts';
export { formatProblem, formatPath, type ConfigProblem, type FieldIssue, type FieldPath, type Severity } from './errors.ts';
export { KINDS, kindByName, kindByCliName, type AnyResource, type KindName, type ResourceOf, type SpecOf } from './kinds/index.ts';
export { resourceKey, resourceLabel, DEFAULT_NAMESPACE, type Resource, type ObjectMeta } from './resource.ts';
export type { HTTPMatchRequest } from './kinds/networking/http-match.ts';
export { stringMatchCovers, type StringMatch } from './kinds/networking/string-match.ts';
export { resolveHost, hostMatches, hostsOverlap, visibleFrom, gatewayRef, DOMAIN_SUFFIX } from './hosts.ts';
export { parseDuration, formatDuration } from './schema/duration.ts';
export { selects } from './selectors.ts';
export { parseProtocol, servicePortProtocol, isHttpProtocol, isTlsProtocol, type Protocol } from './protocol.ts';
