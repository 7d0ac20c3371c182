/**
 * Resource identity and content comparison for the config store: the key (`Kind/namespace/name`), the
 * fields the server owns (stripped from what users send, as the Kubernetes API server ignores them), and
 * a canonical fingerprint so the same content written with keys in another order counts as unchanged.
 */
import { resourceKey, type AnyResource } from '../../api/index.ts';

export { resourceKey };

/** Metadata the server sets; never part of what a user configures. */
const SERVER_FIELDS = ['creationTimestamp', 'resourceVersion', 'generation', 'uid', 'managedFields'] as const;

/** The resource as stored: without its file position and server-owned metadata. */
export function normalize(r: AnyResource): AnyResource {
  const { source: _source, ...rest } = r;
  const metadata: Record<string, unknown> = { ...r.metadata };
  for (const f of SERVER_FIELDS) delete metadata[f];
  return { ...rest, metadata } as unknown as AnyResource;
}

/** A string equal for equal content (object keys sorted; `source` and server fields ignored). */
export function fingerprint(r: AnyResource): string {
  return stableStringify(normalize(r));
}

function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`).join(',')}}`;
}
