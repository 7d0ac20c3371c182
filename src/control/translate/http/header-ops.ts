/**
 * VirtualService `headers` (request/response set/add/remove) → Envoy header options, as Istio's
 * `TranslateHeadersOperations` does: `set` overwrites and `add` appends, each sorted by name; the
 * authority (`:authority`/`host` in request set/add) becomes a host rewrite, not a header; pseudo-headers
 * and `host` are never passed to Envoy, which owns them.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#Headers
 */
import { headerOption } from './envoy-values.ts';

type HeaderMap = Readonly<Record<string, string>> | undefined;

interface HeaderOperationsIn {
  readonly set?: HeaderMap;
  readonly add?: HeaderMap;
  readonly remove?: readonly string[] | undefined;
}

export interface HeadersIn {
  readonly request?: HeaderOperationsIn | undefined;
  readonly response?: HeaderOperationsIn | undefined;
}

export interface HeaderOperations {
  readonly requestHeadersToAdd: Record<string, unknown>[];
  readonly requestHeadersToRemove: string[];
  readonly responseHeadersToAdd: Record<string, unknown>[];
  readonly responseHeadersToRemove: string[];
  /** The request authority to rewrite to (request `set` wins over `add`), or '' when unchanged. */
  readonly authority: string;
}

function isInternalHeader(name: string): boolean {
  return name.startsWith(':') || name.toLowerCase() === 'host';
}

function isAuthorityHeader(name: string): boolean {
  const n = name.toLowerCase();
  return n === ':authority' || n === 'host';
}

function options(headers: HeaderMap, append: boolean): { list: Record<string, unknown>[]; authority: string } {
  const list: Record<string, unknown>[] = [];
  let authority = '';
  if (headers === undefined) return { list, authority };
  // Sorted so that the output (and its content hash) does not depend on the YAML's key order.
  for (const name of Object.keys(headers).sort()) {
    const value = headers[name]!;
    if (isAuthorityHeader(name)) authority = value;
    if (!isInternalHeader(name)) list.push(headerOption(name, value, append));
  }
  return { list, authority };
}

function removals(names: readonly string[] | undefined): string[] {
  return (names ?? []).filter((n) => !isInternalHeader(n));
}

export function headerOperations(h: HeadersIn): HeaderOperations {
  const reqSet = options(h.request?.set, false);
  const reqAdd = options(h.request?.add, true);
  const respSet = options(h.response?.set, false);
  const respAdd = options(h.response?.add, true);
  return {
    requestHeadersToAdd: [...reqSet.list, ...reqAdd.list],
    requestHeadersToRemove: removals(h.request?.remove),
    responseHeadersToAdd: [...respSet.list, ...respAdd.list],
    responseHeadersToRemove: removals(h.response?.remove),
    authority: reqSet.authority !== '' ? reqSet.authority : reqAdd.authority,
  };
}

/** Sets the non-empty lists of `ops` on `target` (a Route or a ClusterWeight), appending to what is there. */
export function applyHeaderOperations(target: Record<string, unknown>, ops: HeaderOperations): void {
  appendList(target, 'requestHeadersToAdd', ops.requestHeadersToAdd);
  appendList(target, 'requestHeadersToRemove', ops.requestHeadersToRemove);
  appendList(target, 'responseHeadersToAdd', ops.responseHeadersToAdd);
  appendList(target, 'responseHeadersToRemove', ops.responseHeadersToRemove);
}

function appendList(target: Record<string, unknown>, key: string, items: readonly unknown[]): void {
  if (items.length === 0) return;
  const current = target[key];
  target[key] = Array.isArray(current) ? [...current, ...items] : [...items];
}
