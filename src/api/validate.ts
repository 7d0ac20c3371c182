/**
 * Validation of one parsed document into a typed resource: identify the kind from apiVersion/kind,
 * check metadata with the kind's name rule, check spec with the kind's schema, and place every problem
 * at its file:line. Invalid documents yield problems and no resource; warnings do not invalidate.
 */
import type * as z from 'zod';
import { obj } from './schema/object.ts';
import { toFieldIssues } from './schema/issues.ts';
import { metadataFor } from './metadata.ts';
import { kindByName, suggestKind, type AnyResource } from './kinds/index.ts';
import { apiVersionOf, type KindDef } from './kinds/kind.ts';
import { DEFAULT_NAMESPACE, resourceLabel } from './resource.ts';
import { formatPath, showValue, type ConfigProblem, type FieldIssue } from './errors.ts';
import type { RawDocument } from './source/documents.ts';
import * as zod from 'zod';

export interface ValidateOptions {
  /** Namespace given to resources that do not name one (`-n`); `default` otherwise. */
  readonly defaultNamespace?: string;
}

export interface DocumentResult {
  /** The resource, when the document has no errors (it may have warnings). */
  readonly resource?: AnyResource;
  /** Line lookup for fields of `resource`, for messages about it found later (analyzers). */
  readonly locate?: (path: readonly (string | number)[]) => number;
  /** A well-formed object of a kind weft does not read (Deployment, EnvoyFilter…): kept for analyzers. */
  readonly foreign?: ForeignObject;
  readonly problems: ConfigProblem[];
}

/** An object of another Kubernetes or Istio kind, passed through unvalidated. */
export interface ForeignObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly value: Readonly<Record<string, unknown>>;
  readonly source: { readonly file: string; readonly line: number };
}

/**
 * Kubernetes kinds weft recognises as not its business in local mode, by API group; `*` admits any kind
 * of that group (CRD-heavy groups). Listing kinds keeps a typo (`kind: Deploymnt`) an error, not a skip.
 */
const KUBERNETES_KINDS: ReadonlyMap<string, ReadonlySet<string> | '*'> = new Map<string, ReadonlySet<string> | '*'>([
  ['', new Set(['Pod', 'ConfigMap', 'Secret', 'ServiceAccount', 'Endpoints', 'PersistentVolumeClaim', 'PersistentVolume', 'LimitRange', 'ResourceQuota', 'ReplicationController', 'Node', 'Event', 'PodTemplate'])],
  ['apps', new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ControllerRevision'])],
  ['batch', new Set(['Job', 'CronJob'])],
  ['policy', new Set(['PodDisruptionBudget'])],
  ['autoscaling', new Set(['HorizontalPodAutoscaler'])],
  ['rbac.authorization.k8s.io', new Set(['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'])],
  ['networking.k8s.io', new Set(['Ingress', 'IngressClass', 'NetworkPolicy'])],
  ['discovery.k8s.io', new Set(['EndpointSlice'])],
  ...['apiextensions.k8s.io', 'admissionregistration.k8s.io', 'storage.k8s.io', 'coordination.k8s.io', 'scheduling.k8s.io',
    'gateway.networking.k8s.io', 'cert-manager.io', 'monitoring.coreos.com'].map((g) => [g, '*'] as const),
]);

function isKubernetesKind(group: string, kind: string): boolean {
  const kinds = KUBERNETES_KINDS.get(group);
  return kinds === '*' || (kinds !== undefined && kinds.has(kind));
}

/** Istio kinds weft does not implement (their config would silently do nothing). */
const ISTIO_GROUPS = new Set(['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'extensions.istio.io', 'install.istio.io']);
const ISTIO_UNSUPPORTED = new Set(['EnvoyFilter', 'ProxyConfig', 'WasmPlugin', 'IstioOperator', 'ServiceEntryStatus']);

function groupOf(apiVersion: unknown): string | undefined {
  if (typeof apiVersion !== 'string') return undefined;
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** A document of a kind weft does not read: an info (Kubernetes kinds) or warning (Istio kinds) and the object. */
function foreign(doc: RawDocument, value: Record<string, unknown>, defaultNamespace: string): DocumentResult | undefined {
  const kind = value['kind'];
  const group = groupOf(value['apiVersion']);
  if (typeof kind !== 'string' || group === undefined || kindByName(kind) !== undefined) return undefined;
  const istio = ISTIO_GROUPS.has(group) && ISTIO_UNSUPPORTED.has(kind);
  if (!istio && !isKubernetesKind(group, kind)) return undefined;
  const md = isRecord(value['metadata']) ? value['metadata'] : {};
  const name = typeof md['name'] === 'string' ? md['name'] : '<unnamed>';
  const namespace = typeof md['namespace'] === 'string' ? md['namespace'] : defaultNamespace;
  const label = `${kind} ${namespace}/${name}`;
  const message = istio
    ? `${kind} is not supported by weft; this resource is ignored`
    : `${kind} is a Kubernetes kind weft does not read in local mode; skipped`;
  const problems = placeIssues(doc, [{ path: ['kind'], message, severity: istio ? 'warning' : 'info' }], label);
  const obj: ForeignObject = { apiVersion: String(value['apiVersion']), kind, name, namespace, value, source: { file: doc.file, line: doc.line } };
  return { foreign: obj, problems };
}

const ENVELOPE_CACHE = new WeakMap<KindDef, z.ZodType>();

function envelope(def: KindDef): z.ZodType {
  let s = ENVELOPE_CACHE.get(def);
  if (s === undefined) {
    s = obj({
      apiVersion: zod.string(),
      kind: zod.string(),
      metadata: metadataFor(def.nameRule),
      spec: def.specRequired ? def.spec : def.spec.optional(),
      status: zod.unknown().optional(),
    });
    ENVELOPE_CACHE.set(def, s);
  }
  return s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Identifies the kind of a document, or explains why it cannot. */
function identify(value: Record<string, unknown>): { def: KindDef } | FieldIssue {
  const { apiVersion, kind } = value;
  if (typeof kind !== 'string' || kind === '') return { path: ['kind'], message: kind === undefined ? 'is required' : `must be a string (got ${showValue(kind)})` };
  if (typeof apiVersion !== 'string' || apiVersion === '') return { path: ['apiVersion'], message: apiVersion === undefined ? 'is required' : `must be a string (got ${showValue(apiVersion)})` };
  const def = kindByName(kind);
  if (def === undefined) {
    const hint = suggestKind(kind);
    return { path: ['kind'], message: `unknown kind ${showValue(kind)}${hint ? ` (did you mean "${hint}"?)` : ''}; weft reads Istio's networking, security and telemetry kinds, Service and Namespace` };
  }
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (group !== def.group || !def.versions.includes(version)) {
    const served = def.versions.map((v) => apiVersionOf(def, v)).join(', ');
    return { path: ['apiVersion'], message: `${kind} is not served as ${showValue(apiVersion)} (use ${served})` };
  }
  return { def };
}

function nameOf(value: Record<string, unknown>, defaultNamespace: string, def: KindDef | undefined): string | undefined {
  const md = isRecord(value['metadata']) ? value['metadata'] : undefined;
  const kind = typeof value['kind'] === 'string' ? value['kind'] : undefined;
  if (kind === undefined) return undefined;
  const name = typeof md?.['name'] === 'string' ? md['name'] : '<unnamed>';
  const namespaced = def?.namespaced ?? true;
  const ns = typeof md?.['namespace'] === 'string' ? md['namespace'] : defaultNamespace;
  return resourceLabel({ kind, metadata: { name, namespace: ns } }, namespaced);
}

/** Places field issues of `doc` at their lines. */
export function placeIssues(doc: RawDocument, issues: readonly FieldIssue[], resource: string | undefined): ConfigProblem[] {
  return issues.map((i) => ({
    severity: i.severity ?? 'error',
    file: doc.file,
    line: doc.locate(i.path),
    ...(resource === undefined ? {} : { resource }),
    field: formatPath(i.path),
    message: i.message,
  }));
}

/** Validates the value at the root of `doc` (one resource). */
export function validateValue(doc: RawDocument, value: unknown, opts: ValidateOptions = {}): DocumentResult {
  const defaultNamespace = opts.defaultNamespace ?? DEFAULT_NAMESPACE;
  if (!isRecord(value)) {
    return { problems: placeIssues(doc, [{ path: [], message: `a resource must be a mapping with apiVersion, kind, metadata and spec (got ${showValue(value)})` }], undefined) };
  }
  const skipped = foreign(doc, value, defaultNamespace);
  if (skipped !== undefined) return skipped;
  const id = identify(value);
  if (!('def' in id)) return { problems: placeIssues(doc, [id], nameOf(value, defaultNamespace, undefined)) };
  const def = id.def;
  const label = nameOf(value, defaultNamespace, def);
  const parsed = envelope(def).safeParse(value);
  const issues = parsed.success ? [] : toFieldIssues(parsed.error.issues, [], value);
  if (!def.namespaced && isRecord(value['metadata']) && value['metadata']['namespace'] !== undefined) {
    issues.push({ path: ['metadata', 'namespace'], message: `${def.kind} is cluster-scoped and has no namespace` });
  }
  const problems = placeIssues(doc, issues, label).sort((a, b) => a.line - b.line);
  if (problems.some((p) => p.severity === 'error')) return { problems };
  const md = value['metadata'] as Record<string, unknown>;
  const resource = {
    apiVersion: value['apiVersion'],
    kind: def.kind,
    metadata: { ...md, namespace: def.namespaced ? (md['namespace'] ?? defaultNamespace) : '' },
    spec: value['spec'] ?? {},
    source: { file: doc.file, line: doc.line },
  } as AnyResource;
  return { resource, problems, locate: doc.locate };
}

/**
 * Validates one document. A Kubernetes `List` (`kind: List`, `items: [...]`) or a top-level array (a JSON
 * file holding several resources) yields one result per item.
 */
export function validateDocument(doc: RawDocument, opts: ValidateOptions = {}): DocumentResult[] {
  const v = doc.value;
  if (isRecord(v) && v['kind'] === 'List' && Array.isArray(v['items'])) {
    return v['items'].map((item, i) => validateValue({ ...doc, locate: (p) => doc.locate(['items', i, ...p]) }, item, opts));
  }
  if (Array.isArray(v)) return v.map((item, i) => validateValue({ ...doc, locate: (p) => doc.locate([i, ...p]) }, item, opts));
  return [validateValue(doc, v, opts)];
}
