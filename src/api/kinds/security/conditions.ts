/**
 * The attributes an AuthorizationPolicy `when` condition may test (`source.ip`, `request.headers[x]`,
 * `request.auth.claims[iss]`, ...) and the values each accepts, as Istio's ValidateAttribute checks them.
 * https://istio.io/latest/docs/reference/config/security/conditions/
 */
import { cidrProblem } from '../../schema/net.ts';
import { didYouMean } from '../../schema/suggest.ts';
import { showValue } from '../../errors.ts';

/** Attributes written `name[key]`, e.g. `request.headers[User-Agent]`. */
const MAP_ATTRIBUTES = ['request.headers', 'request.experimental.inline.headers', 'request.auth.claims', 'experimental.envoy.filters.'] as const;

type ValueCheck = (value: string) => string | undefined;

const ipValue: ValueCheck = (v) => cidrProblem(v, true);
export const portValue: ValueCheck = (v) => {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  return n >= 0 && n <= 65535 ? undefined : `must be a port number between 0 and 65535 (got ${showValue(v)})`;
};
const anyValue: ValueCheck = () => undefined;

/** `serviceAccount` or `namespace/serviceAccount`, without wildcards (Source.serviceAccounts, source.serviceAccount). */
export const serviceAccountValue: ValueCheck = (v) => {
  if (v === '') return 'must not be empty';
  if (v.includes('*')) return `wildcards are not allowed in service accounts (got ${showValue(v)})`;
  if (v.length > 320) return `must be at most 320 characters (got ${v.length})`;
  const parts = v.split('/');
  if (parts.length > 2 || parts.some((p) => p === '')) {
    return `must be "serviceAccount" or "namespace/serviceAccount" (got ${showValue(v)})`;
  }
  return undefined;
};

/** Exactly-named attributes and the check for their values. */
const EXACT_ATTRIBUTES: ReadonlyMap<string, ValueCheck> = new Map([
  ['source.ip', ipValue],
  ['remote.ip', ipValue],
  ['destination.ip', ipValue],
  ['destination.port', portValue],
  ['source.namespace', anyValue],
  ['source.serviceAccount', serviceAccountValue],
  ['source.principal', anyValue],
  ['request.auth.principal', anyValue],
  ['request.auth.audiences', anyValue],
  ['request.auth.presenter', anyValue],
  ['connection.sni', anyValue],
]);

/** Attributes Istio once had and now rejects, with what replaced them. */
function retiredAttributeProblem(key: string): string | undefined {
  if (key === 'destination.namespace') return 'destination.namespace is no longer supported: the policy applies to its own namespace (metadata.namespace)';
  if (key.startsWith('destination.labels')) return `${key} is no longer supported: use the policy's selector to pick workloads`;
  if (key === 'destination.name' || key === 'destination.user') return `${key} was removed with the v1alpha1 API`;
  return undefined;
}

function mapKeyProblem(key: string): string | undefined {
  const open = key.indexOf('[');
  return key.endsWith(']') && open > 0 && open < key.length - 2 ? undefined : `must have the form name[key], e.g. "request.headers[x-token]" (got ${showValue(key)})`;
}

const KNOWN_NAMES: readonly string[] = [...EXACT_ATTRIBUTES.keys(), ...MAP_ATTRIBUTES.map((a) => (a.endsWith('.') ? `${a}NAME[KEY]` : `${a}[KEY]`))];

/** The problem with a condition key, or undefined when Istio supports it. */
export function conditionKeyProblem(key: string): string | undefined {
  if (key === '') return 'must not be empty';
  if (MAP_ATTRIBUTES.some((a) => key.startsWith(a))) return mapKeyProblem(key);
  if (EXACT_ATTRIBUTES.has(key)) return undefined;
  return retiredAttributeProblem(key) ?? `unknown attribute ${showValue(key)}${didYouMean(key, KNOWN_NAMES)}; see https://istio.io/latest/docs/reference/config/security/conditions/`;
}

/** The check for the values of a (valid) condition key. */
export function conditionValueCheck(key: string): ValueCheck {
  return EXACT_ATTRIBUTES.get(key) ?? anyValue;
}
