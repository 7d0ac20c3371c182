/**
 * The config endpoints behind `weft apply|get|delete`, with kubectl's habits: apply validates the whole
 * request first and applies nothing when anything is invalid, then says per resource whether it was
 * created, configured or unchanged; get matches kinds by any CLI name (`vs`, `virtualservices`).
 */
import { kindByCliName, parseConfig, type AnyResource, type ConfigProblem } from '../../api/index.ts';
import type { ApplyResult, DeleteResult, InForce } from '../config/index.ts';
import type { ConfigSnapshot } from '../config-snapshot.ts';
import { HttpError, type ApiRequest, type Reply, type Router } from './router.ts';

type KindDef = NonNullable<ReturnType<typeof kindByCliName>>;

/** What the HTTP API needs of the config store (`ConfigStore` provides it). */
export interface ConfigApi {
  apply(resources: readonly AnyResource[]): Promise<ApplyResult[]>;
  delete(keys: readonly string[]): Promise<DeleteResult[]>;
  inForce(): InForce[];
  describe(key: string): InForce | undefined;
  problems(): ReadonlyMap<string, readonly ConfigProblem[]>;
  snapshot(): ConfigSnapshot;
}

/** The name kubectl gives a kind in messages: `virtualservices.networking.istio.io`, `services`. */
export function kindRef(def: KindDef): string {
  return def.group === '' ? def.plural : `${def.plural}.${def.group}`;
}

export function registerResourceRoutes(router: Router, config: ConfigApi): void {
  router
    .add('POST', '/apply', (req) => apply(req, config))
    .add('POST', '/delete', (req) => deleteMany(req, config))
    .add('GET', '/resources/:kind', (req) => list(req, config))
    .add('GET', '/resources/:kind/:name', (req) => getOne(req, config, undefined))
    .add('GET', '/resources/:kind/:namespace/:name', (req) => getOne(req, config, req.params['namespace']))
    .add('DELETE', '/resources/:kind/:name', (req) => deleteOne(req, config, undefined))
    .add('DELETE', '/resources/:kind/:namespace/:name', (req) => deleteOne(req, config, req.params['namespace']));
}

function kindOf(name: string): KindDef {
  const def = kindByCliName(name);
  if (def === undefined) throw new HttpError(404, 'UNKNOWN_KIND', `the server doesn't have a resource type ${JSON.stringify(name)}`);
  return def;
}

function keyOf(def: KindDef, namespace: string | undefined, name: string): string {
  if (def.namespaced && namespace === undefined) throw new HttpError(400, 'NAMESPACE_REQUIRED', `${def.kind} is namespaced: use /resources/${def.plural}/<namespace>/${name}`);
  return `${def.kind}/${def.namespaced ? namespace : ''}/${name}`;
}

/** Parses a request body of YAML/JSON resources; any error refuses the whole request. */
async function parseBody(req: ApiRequest): Promise<{ resources: AnyResource[]; warnings: ConfigProblem[]; skipped: ConfigProblem[] }> {
  const text = await req.body();
  const set = parseConfig(text, req.query.get('filename') ?? '<request>', { defaultNamespace: req.query.get('namespace') || 'default' });
  const errors = set.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new HttpError(400, 'INVALID_CONFIG', `${errors.length} error${errors.length === 1 ? '' : 's'} in the request: nothing was changed`, { details: { errors } });
  if (set.resources.length === 0) {
    throw new HttpError(400, 'NO_RESOURCES', set.documents === 0 ? 'the request has no resources' : 'the request has no resources weft reads (only Kubernetes objects weft skips)');
  }
  return {
    resources: set.resources,
    warnings: set.problems.filter((p) => p.severity === 'warning'),
    skipped: set.problems.filter((p) => p.severity === 'info'),
  };
}

function identity(r: AnyResource) {
  return { kind: r.kind, apiVersion: r.apiVersion, namespace: r.metadata.namespace, name: r.metadata.name };
}

async function apply(req: ApiRequest, config: ConfigApi): Promise<Reply> {
  const { resources, warnings, skipped } = await parseBody(req);
  const results = await config.apply(resources);
  return { status: 200, json: { results: results.map((r) => ({ ...identity(r.resource), action: r.action })), warnings, skipped } };
}

async function deleteMany(req: ApiRequest, config: ConfigApi): Promise<Reply> {
  const { resources } = await parseBody(req);
  const results = await config.delete(resources.map((r) => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`));
  return { status: 200, json: { results: results.map((d, i) => ({ ...identity(resources[i]!), action: d.action, ...(d.file === undefined ? {} : { file: d.file }) })) } };
}

async function deleteOne(req: ApiRequest, config: ConfigApi, namespace: string | undefined): Promise<Reply> {
  const def = kindOf(req.params['kind']!);
  const name = req.params['name']!;
  const [result] = await config.delete([keyOf(def, namespace, name)]);
  if (result?.action === 'not-found') throw new HttpError(404, 'NOT_FOUND', `${kindRef(def)} ${JSON.stringify(name)} not found`);
  if (result?.action === 'defined-in-file') {
    throw new HttpError(409, 'DEFINED_IN_FILE', `${kindRef(def)} ${JSON.stringify(name)} is defined in the watched file ${result.file}: edit or remove the file instead`);
  }
  return { status: 200, json: { results: [{ kind: def.kind, namespace: namespace ?? '', name, action: 'deleted', ...(result?.file === undefined ? {} : { file: result.file }) }] } };
}

/** A resource as `get` shows it: with `metadata.creationTimestamp` (when weft first had it). */
function shown(f: InForce): AnyResource {
  return { ...f.resource, metadata: { ...f.resource.metadata, creationTimestamp: f.createdAt } };
}

function list(req: ApiRequest, config: ConfigApi): Reply {
  const def = kindOf(req.params['kind']!);
  const namespace = req.query.get('namespace') || undefined;
  const name = req.query.get('name') || undefined;
  const items = config.inForce().filter((f) =>
    f.resource.kind === def.kind &&
    (namespace === undefined || !def.namespaced || f.resource.metadata.namespace === namespace) &&
    (name === undefined || f.resource.metadata.name === name));
  if (name !== undefined && items.length === 0) throw new HttpError(404, 'NOT_FOUND', `${kindRef(def)} ${JSON.stringify(name)} not found`);
  return { status: 200, json: { apiVersion: 'v1', kind: 'List', items: items.map(shown) } };
}

function getOne(req: ApiRequest, config: ConfigApi, namespace: string | undefined): Reply {
  const def = kindOf(req.params['kind']!);
  const name = req.params['name']!;
  const found = config.describe(keyOf(def, namespace, name));
  if (found === undefined) throw new HttpError(404, 'NOT_FOUND', `${kindRef(def)} ${JSON.stringify(name)} not found`);
  return { status: 200, json: shown(found) };
}
