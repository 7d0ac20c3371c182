/**
 * Name and host rules shared by the kinds: Kubernetes object names and labels, DNS names, Istio hosts
 * with wildcards, and `namespace/host` references. Each returns a problem message or undefined.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN_PART = DNS1123_LABEL;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

const q = JSON.stringify;

export function isDns1123Label(v: string): boolean {
  return v.length <= 63 && DNS1123_LABEL.test(v);
}

export function isDns1123Subdomain(v: string): boolean {
  return v.length <= 253 && v.split('.').every((p) => DNS1123_SUBDOMAIN_PART.test(p));
}

export function dns1123LabelProblem(v: string): string | undefined {
  if (isDns1123Label(v)) return undefined;
  return `must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (got ${q(v)})`;
}

export function dns1123SubdomainProblem(v: string): string | undefined {
  if (isDns1123Subdomain(v)) return undefined;
  return `must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters (got ${q(v)})`;
}

/** Kubernetes label key: optional DNS subdomain prefix and '/', then a name of at most 63 characters. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix === '' || !isDns1123Subdomain(prefix))) {
    return `label key prefix must be a DNS-1123 subdomain (got ${q(key)})`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return `label key must be at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit (got ${q(key)})`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '' || (value.length <= 63 && LABEL_NAME.test(value))) return undefined;
  return `label value must be empty or at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit (got ${q(value)})`;
}

/**
 * A domain name whose first label may carry a wildcard (Istio's ValidateWildcardDomain): `*`,
 * `*.example.com`, and the partial forms Istio also accepts in the first label (`*foo.example.com`,
 * `*-foo.example.com`). Labels hold letters, digits and '-'; at most 255 characters.
 */
export function wildcardHostProblem(host: string, shown = host): string | undefined {
  if (host === '') return `host must not be empty (got ${q(shown)})`;
  if (host.length > 255) return `host is longer than 255 characters (got ${q(shown.slice(0, 40))}...)`;
  if (host === '*') return undefined;
  const dot = host.indexOf('.');
  const first = dot < 0 ? host : host.slice(0, dot);
  const rest = dot < 0 ? '' : host.slice(dot + 1);
  if (rest.includes('*') || (first.includes('*') && !WILDCARD_LABEL.test(first))) {
    return `wildcard '*' is only allowed at the start of the first label, as in "*.example.com" (got ${q(shown)})`;
  }
  if (first.startsWith('*')) return rest === '' ? undefined : fqdnProblem(rest, shown);
  return fqdnProblem(host, shown);
}

/** A first label with a wildcard: `*`, or `*` / `*-` before an ordinary label. */
const WILDCARD_LABEL = /^\*(-?[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)?$/;

const HOST_LABEL = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** A domain name without wildcards; a trailing dot is allowed. */
export function fqdnProblem(name: string, shown = name): string | undefined {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return `host must not be empty (got ${q(shown)})`;
  for (const label of trimmed.split('.')) {
    if (label.length > 63 || !HOST_LABEL.test(label)) {
      return `host must be a domain name: labels of letters, digits and '-', each at most 63 characters (got ${q(shown)})`;
    }
  }
  return undefined;
}

/**
 * `namespace/host` as used by Gateway servers and Sidecar egress: namespace is `*`, `.`, `~` or a
 * namespace name; host is a wildcard host. A bare host is allowed when `allowBare` (it means `* /host`).
 */
export function namespacedHostProblem(v: string, allowBare: boolean): string | undefined {
  const slash = v.indexOf('/');
  if (slash < 0) {
    if (!allowBare) return `must be namespace/host, e.g. "./*" or "istio-system/*.example.com" (got ${q(v)})`;
    return wildcardHostProblem(v);
  }
  const ns = v.slice(0, slash);
  const host = v.slice(slash + 1);
  if (ns !== '*' && ns !== '.' && ns !== '~' && !isDns1123Label(ns)) {
    return `namespace part must be "*", ".", "~" or a namespace name (got ${q(v)})`;
  }
  return wildcardHostProblem(host, v);
}
