/**
 * Filter-chain selection by Envoy's rules, compiled once per listener version into a tree with one
 * level per `FilterChainMatch` criterion, in Envoy's order: destination port, destination IP
 * (`prefix_ranges`), server name (SNI), transport protocol, application protocols (ALPN), directly
 * connected source IP, source type, source IP, source port. At each level the most specific branch
 * that fits the connection wins (exact port; longest prefix; exact name, then `*.example.com` style
 * wildcards from the longest suffix; the first of the client's ALPN values with a branch…), else the
 * branch of chains that do not state the criterion. There is no backtracking: once a level picks a
 * branch, a miss further down means no chain (and the listener's `default_filter_chain`), as in Envoy.
 * Two chains that reach the same leaf have the same matching rules: a config problem.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch
 */
import type { Proto } from '../core/contracts.ts';
import { enumName, integers, messages, problem, string, strings, uintValue } from '../network/proto-read.ts';
import type { Problems } from '../network/proto-read.ts';
import { cidrContains, cidrKey, isLoopback, parseCidr, parseIp, sameIp } from './cidr.ts';
import type { Cidr, Ip } from './cidr.ts';

/** What is known about a connection when its chain is chosen (after the listener filters). */
export interface ConnectionFacts {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Lower-case SNI, when known. */
  readonly serverName?: string | undefined;
  readonly transport: string;
  readonly alpn?: readonly string[] | undefined;
}

/** Lazily parsed addresses of one lookup. */
class Query {
  readonly facts: ConnectionFacts;
  #dst: Ip | null | undefined;
  #src: Ip | null | undefined;
  constructor(facts: ConnectionFacts) {
    this.facts = facts;
  }
  dst(): Ip | null {
    return (this.#dst ??= parseIp(this.facts.localAddress) ?? null);
  }
  src(): Ip | null {
    return (this.#src ??= parseIp(this.facts.remoteAddress) ?? null);
  }
  /** Envoy's SAME_IP_OR_LOOPBACK: the peer is a loopback address or our own address. */
  local(): boolean {
    const src = this.src();
    const dst = this.dst();
    return src !== null && (isLoopback(src) || (dst !== null && sameIp(src, dst)));
  }
}

interface Node<T> {
  readonly children: Map<string, Node<T>>;
  /** CIDR levels: ranges of `children`, longest prefix first. */
  ranges: { readonly cidr: Cidr; readonly node: Node<T> }[] | undefined;
  leaf: { readonly value: T; readonly index: number } | undefined;
}

interface Level {
  readonly field: string;
  /** CIDR levels keep parsed ranges for longest-prefix lookup. */
  readonly cidr?: boolean;
  pick<T>(node: Node<T>, q: Query): Node<T> | undefined;
}

const CATCH_ALL = '';
const NO_ALPN: readonly string[] = [];

function exactOrAny<T>(node: Node<T>, key: string): Node<T> | undefined {
  return node.children.get(key) ?? node.children.get(CATCH_ALL);
}

function longestPrefix<T>(node: Node<T>, ip: Ip | null): Node<T> | undefined {
  if (ip !== null && node.ranges !== undefined) {
    for (const r of node.ranges) if (cidrContains(r.cidr, ip)) return r.node;
  }
  return node.children.get(CATCH_ALL);
}

function serverName<T>(node: Node<T>, name: string): Node<T> | undefined {
  if (name !== '') {
    const exact = node.children.get(name);
    if (exact !== undefined) return exact;
    // `*.b.example.com`, then `*.example.com`, then `*.com` for `a.b.example.com`.
    for (let dot = name.indexOf('.', 1); dot !== -1 && dot < name.length - 1; dot = name.indexOf('.', dot + 1)) {
      const wild = node.children.get(`*${name.slice(dot)}`);
      if (wild !== undefined) return wild;
    }
  }
  return node.children.get(CATCH_ALL);
}

function alpn<T>(node: Node<T>, protocols: readonly string[]): Node<T> | undefined {
  for (const p of protocols) {
    const n = node.children.get(p);
    if (n !== undefined) return n;
  }
  return node.children.get(CATCH_ALL);
}

function sourceType<T>(node: Node<T>, q: Query): Node<T> | undefined {
  if (node.children.size > 1 || !node.children.has(CATCH_ALL)) {
    const n = node.children.get(q.local() ? 'SAME_IP_OR_LOOPBACK' : 'EXTERNAL');
    if (n !== undefined) return n;
  }
  return node.children.get(CATCH_ALL);
}

const LEVELS: readonly Level[] = [
  { field: 'destinationPort', pick: (n, q) => exactOrAny(n, String(q.facts.localPort)) },
  { field: 'prefixRanges', cidr: true, pick: (n, q) => longestPrefix(n, n.ranges === undefined ? null : q.dst()) },
  { field: 'serverNames', pick: (n, q) => serverName(n, q.facts.serverName ?? '') },
  { field: 'transportProtocol', pick: (n, q) => exactOrAny(n, q.facts.transport) },
  { field: 'applicationProtocols', pick: (n, q) => alpn(n, q.facts.alpn ?? NO_ALPN) },
  { field: 'directSourcePrefixRanges', cidr: true, pick: (n, q) => longestPrefix(n, n.ranges === undefined ? null : q.src()) },
  { field: 'sourceType', pick: (n, q) => sourceType(n, q) },
  { field: 'sourcePrefixRanges', cidr: true, pick: (n, q) => longestPrefix(n, n.ranges === undefined ? null : q.src()) },
  { field: 'sourcePorts', pick: (n, q) => exactOrAny(n, String(q.facts.remotePort)) },
];

/** Keys of one chain per level ([] means "not stated": the catch-all branch). */
type Keys = string[][];

function cidrKeys(m: Proto, field: string, path: string, problems: Problems, ranges: Map<string, Cidr>): string[] {
  return messages(m, field, path, problems).map((r, i) => {
    const p = `${path}.${field}[${i}]`;
    const prefix = typeof r['addressPrefix'] === 'string' ? r['addressPrefix'] : '';
    const c = parseCidr(prefix, uintValue(r, 'prefixLen', p, problems) ?? 0);
    if (typeof c === 'string') {
      problem(problems, p, c);
      return `invalid:${i}`;
    }
    const key = cidrKey(c);
    ranges.set(key, c);
    return key;
  });
}

function portKeys(values: readonly number[], path: string, problems: Problems): string[] {
  for (const v of values) if (!Number.isInteger(v) || v < 1 || v > 65535) problem(problems, path, 'ports must be 1-65535', v);
  return values.map(String);
}

function serverNameKeys(m: Proto, path: string, problems: Problems): string[] {
  return strings(m, 'serverNames', path, problems).map((raw) => {
    const name = raw.toLowerCase();
    if (name.includes('*') && (!name.startsWith('*.') || name.indexOf('*', 1) !== -1 || name.length < 3)) {
      problem(problems, `${path}.serverNames`, 'partial wildcards are not supported: use a leading "*." only', raw);
    }
    if (name === '') problem(problems, `${path}.serverNames`, 'must not contain an empty name');
    return name;
  });
}

/** Validates one `FilterChainMatch` and returns its keys per level. */
function matchKeys(m: Proto | undefined, path: string, problems: Problems, ranges: Map<string, Cidr>): Keys {
  if (m === undefined) return LEVELS.map(() => []);
  const port = uintValue(m, 'destinationPort', path, problems);
  const sourcePorts = integers(m, 'sourcePorts', path, problems);
  const transport = string(m, 'transportProtocol', path, problems);
  const type = enumName(m, 'sourceType', ['ANY', 'SAME_IP_OR_LOOPBACK', 'EXTERNAL'] as const, path, problems);
  return [
    port === undefined ? [] : portKeys([port], `${path}.destinationPort`, problems),
    cidrKeys(m, 'prefixRanges', path, problems, ranges),
    serverNameKeys(m, path, problems),
    transport === '' ? [] : [transport],
    strings(m, 'applicationProtocols', path, problems),
    cidrKeys(m, 'directSourcePrefixRanges', path, problems, ranges),
    type === 'ANY' ? [] : [type],
    cidrKeys(m, 'sourcePrefixRanges', path, problems, ranges),
    portKeys(sourcePorts, `${path}.sourcePorts`, problems),
  ];
}

function newNode<T>(): Node<T> {
  return { children: new Map(), ranges: undefined, leaf: undefined };
}

/** Envoy builds one leaf per combination of values; a very wide cross product is a config mistake. */
const MAX_COMBINATIONS = 100_000;

export interface MatcherEntry<T> {
  readonly match: Proto | undefined;
  readonly value: T;
}

export class FilterChainMatcher<T> {
  readonly #root: Node<T>;

  private constructor(root: Node<T>) {
    this.#root = root;
  }

  /** Builds the tree for chains at `${path}[i].filterChainMatch`; every problem goes to `problems`. */
  static compile<T>(entries: readonly MatcherEntry<T>[], path: string, problems: Problems): FilterChainMatcher<T> {
    const root = newNode<T>();
    const ranges = new Map<string, Cidr>();
    entries.forEach((entry, index) => {
      const p = `${path}[${index}].filterChainMatch`;
      const before = problems.length;
      const keys = matchKeys(entry.match, p, problems, ranges);
      if (problems.length > before) return; // an invalid match would only add noise (false duplicates)
      const combos = keys.reduce((n, k) => n * Math.max(k.length, 1), 1);
      if (combos > MAX_COMBINATIONS) {
        problem(problems, p, `expands to ${combos} match combinations (at most ${MAX_COMBINATIONS})`);
        return;
      }
      insert(root, keys, 0, { value: entry.value, index }, p, problems);
    });
    finalize(root, 0, ranges);
    return new FilterChainMatcher(root);
  }

  /** The chain for a connection, or undefined when none matches. */
  find(facts: ConnectionFacts): T | undefined {
    const q = new Query(facts);
    let node: Node<T> | undefined = this.#root;
    for (const level of LEVELS) {
      node = level.pick(node, q);
      if (node === undefined) return undefined;
    }
    return node.leaf?.value;
  }
}

function insert<T>(node: Node<T>, keys: Keys, depth: number, leaf: { value: T; index: number }, path: string, problems: Problems): void {
  if (depth === LEVELS.length) {
    if (node.leaf === undefined) node.leaf = leaf;
    else if (!problems.includes(duplicate(path, node.leaf.index))) problems.push(duplicate(path, node.leaf.index));
    return;
  }
  const values = keys[depth]!;
  for (const key of values.length === 0 ? [CATCH_ALL] : new Set(values)) {
    let child = node.children.get(key);
    if (child === undefined) node.children.set(key, (child = newNode()));
    insert(child, keys, depth + 1, leaf, path, problems);
  }
}

function duplicate(path: string, other: number): string {
  return `${path}: multiple filter chains with the same matching rules (same as filterChains[${other}])`;
}

function finalize<T>(node: Node<T>, depth: number, ranges: ReadonlyMap<string, Cidr>): void {
  if (depth === LEVELS.length) return;
  if (LEVELS[depth]!.cidr === true) {
    const list: { cidr: Cidr; node: Node<T> }[] = [];
    for (const [key, child] of node.children) {
      const cidr = ranges.get(key);
      if (cidr !== undefined) list.push({ cidr, node: child });
    }
    if (list.length > 0) node.ranges = list.sort((a, b) => b.cidr.len - a.cidr.len);
  }
  for (const child of node.children.values()) finalize(child, depth + 1, ranges);
}
