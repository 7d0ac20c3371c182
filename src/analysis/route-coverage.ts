/**
 * Finds VirtualService rules and matches that can never be used because an earlier rule already takes
 * their traffic (Istio's VirtualServiceUnreachableRule / VirtualServiceIneffectiveMatch).
 * Routes are tried in order, so a rule after a catch-all, or a match covered by an earlier match, is dead.
 * Coverage is decided conservatively: when unsure, a match is assumed reachable.
 */
import { stringMatchCovers, type HTTPMatchRequest, type StringMatch } from '../api/index.ts';

/** A dead rule (`match` undefined) or a dead match within a live rule, with a path under `spec`. */
export interface DeadRoute {
  readonly what: 'rule' | 'match';
  readonly path: readonly (string | number)[];
  readonly message: string;
}

type Report = (d: DeadRoute) => void;

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function mapCovers(a: Readonly<Record<string, StringMatch>> | undefined, b: Readonly<Record<string, StringMatch>> | undefined): boolean {
  return Object.entries(a ?? {}).every(([k, m]) => stringMatchCovers(m, b?.[k]));
}

/** Whether every request matched by `b` is also matched by `a`. Answers false when unsure. */
export function httpMatchCovers(a: HTTPMatchRequest, b: HTTPMatchRequest): boolean {
  if (a.uri !== undefined && (!stringMatchCovers(a.uri, b.uri) || (a.ignoreUriCase ?? false) !== (b.ignoreUriCase ?? false))) return false;
  for (const f of ['scheme', 'method', 'authority'] as const) {
    if (a[f] !== undefined && !stringMatchCovers(a[f], b[f])) return false;
  }
  if (!mapCovers(a.headers, b.headers) || !mapCovers(a.queryParams, b.queryParams)) return false;
  // withoutHeaders narrows `a`: `b` must exclude at least the same requests.
  if (!Object.entries(a.withoutHeaders ?? {}).every(([k, m]) => b.withoutHeaders?.[k] !== undefined && canonical(m) === canonical(b.withoutHeaders[k]))) return false;
  if (a.port && a.port !== b.port) return false;
  if (a.sourceNamespace && a.sourceNamespace !== b.sourceNamespace) return false;
  if (!Object.entries(a.sourceLabels ?? {}).every(([k, v]) => b.sourceLabels?.[k] === v)) return false;
  const ag = a.gateways ?? [];
  const bg = b.gateways ?? [];
  return ag.length === 0 || (bg.length > 0 && bg.every((g) => ag.includes(g)));
}

interface RuleLike<M> { readonly match?: readonly M[] | undefined }

/**
 * Reports dead rules (at `[field, j]`) and dead matches (at `[field, j, 'match', k]`).
 * `covers(a, b)` says whether match `a` takes every request of match `b`.
 */
function analyze<M>(field: string, rules: readonly RuleLike<M>[], covers: (a: M, b: M) => boolean, report: Report): void {
  let catchAll = -1;
  rules.forEach((rule, j) => {
    const matches = rule.match ?? [];
    if (catchAll >= 0) {
      report({ what: 'rule', path: [field, j], message: `${field}[${j}] is never used: ${field}[${catchAll}] has no match conditions and takes all traffic first` });
      return;
    }
    if (matches.length === 0) {
      catchAll = j;
      return;
    }
    const shadows = matches.map((m) => earlierCover(rules, j, m, covers));
    if (shadows.every((s) => s !== undefined)) {
      report({ what: 'rule', path: [field, j], message: `${field}[${j}] is never used: every match is already taken by earlier rules (${[...new Set(shadows.map((s) => `${field}[${s![0]}].match[${s![1]}]`))].join(', ')})` });
      return;
    }
    shadows.forEach((s, k) => {
      if (s !== undefined) report({ what: 'match', path: [field, j, 'match', k], message: `${field}[${j}].match[${k}] is never used: ${field}[${s[0]}].match[${s[1]}] already takes every request it matches` });
    });
  });
}

function earlierCover<M>(rules: readonly RuleLike<M>[], j: number, m: M, covers: (a: M, b: M) => boolean): [number, number] | undefined {
  for (let i = 0; i < j; i++) {
    const n = (rules[i]!.match ?? []).findIndex((a) => covers(a, m));
    if (n >= 0) return [i, n];
  }
  return undefined;
}

export function analyzeHttpRules(rules: readonly RuleLike<HTTPMatchRequest>[], report: Report): void {
  analyze('http', rules, httpMatchCovers, report);
}

/** TCP and TLS matches are compared for equality, as Istio does. */
export function analyzeL4Rules(field: 'tcp' | 'tls', rules: readonly RuleLike<object>[], report: Report): void {
  analyze(field, rules, (a, b) => canonical(a) === canonical(b), report);
}
