/**
 * Whatever bytes an xDS server sends, the sidecar answers with an ACK or a NACK that names the problem,
 * and never throws: the resources weft's control plane generates for Istio's bookinfo sample (a sidecar
 * and the ingress gateway: listeners, route configurations, clusters, endpoints) are mutated, field by
 * field (a value replaced by an odd one of its type, a field or list element dropped, an element
 * repeated, an Any swapped for another type) or byte by byte on the wire (bits flipped, bytes cut,
 * inserted or repeated), and handed to the proxy's own handlers as the xDS client hands them over:
 * decode (a failure is a NACK), then validate. A validation that
 * throws is a bug (the client would NACK with "validation failed" and a bare exception message); every
 * problem must name a field, then what is wrong with it. Route configurations and endpoints that pass are also applied
 * (listeners and clusters would bind sockets and resolve names: their apply is covered end to end).
 * Test-only use of the control plane to make the seeds; production code under src/proxy never imports it.
 * More runs: `FUZZ_RUNS=50000 node --test test/xds-resources.fuzz.test.ts`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { testMesh, type NodeSpec } from '../src/control/translate/harness.ts';
import type { Proto, ResourceHandler } from '../src/proxy/core/contracts.ts';
import { Stats } from '../src/proxy/core/stats.ts';
import { builtinFilters, httpConnectionManagerFactory, RouteConfigStore } from '../src/proxy/http/index.ts';
import { ListenerManager } from '../src/proxy/listener/index.ts';
import { NetworkFilterRegistry, registerBuiltins } from '../src/proxy/network/index.ts';
import { ClusterManagerImpl } from '../src/proxy/upstream/index.ts';
import { decodeResource, encodeResource } from '../src/xds/protos.ts';
import { TYPE } from '../src/xds/type-urls.ts';
import { noSubscriptions } from './support/fake-clusters.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 5000);
const DIR = path.resolve(import.meta.dirname, 'fixtures/istio/bookinfo');
const read = (f: string) => readFileSync(path.join(DIR, f), 'utf8');
const YAML = ['platform-kube-bookinfo.yaml', 'destination-rule-all.yaml', 'bookinfo-gateway.yaml', 'virtual-service-reviews-jason-v2-v3.yaml', 'virtual-service-ratings-test-delay.yaml'].map(read).join('\n---\n');
const app = (name: string, version: string, ip: string): NodeSpec => ({ name: `${name}-${version}`, ip, labels: { app: name, version }, ports: [{ name: 'http', containerPort: 9080 }] });
const NODES: NodeSpec[] = [
  app('productpage', 'v1', '127.0.1.1'), app('reviews', 'v1', '127.0.1.2'), app('reviews', 'v2', '127.0.1.3'),
  app('ratings', 'v1', '127.0.1.5'), app('details', 'v1', '127.0.1.6'),
  { kind: 'router', name: 'ingressgateway', namespace: 'istio-system', ip: '127.0.0.1', labels: { istio: 'ingressgateway' } },
];

interface Seed {
  readonly typeUrl: string;
  readonly name: string;
  readonly resource: Record<string, unknown>;
  readonly bytes: Uint8Array;
}

function seeds(): Seed[] {
  const mesh = testMesh(YAML, NODES);
  const out: Seed[] = [];
  for (const node of ['productpage-v1', 'ingressgateway']) {
    const c = mesh.config(node);
    const add = (typeUrl: string, all: Readonly<Record<string, unknown>> | undefined) => {
      for (const [name, r] of Object.entries(all ?? {})) {
        const bytes = encodeResource(typeUrl, r as Record<string, unknown>);
        out.push({ typeUrl, name, bytes, resource: decodeResource(typeUrl, bytes) as Record<string, unknown> });
      }
    };
    add(TYPE.listener, c.listeners);
    add(TYPE.route, c.routes);
    add(TYPE.cluster, c.clusters);
    add(TYPE.endpoint, c.endpoints);
  }
  return out;
}

/** The proxy's handlers, wired as proxy.ts wires them (no sockets are opened by validate). */
function handlers(): Map<string, { handler: ResourceHandler; applies: boolean }> {
  const stats = new Stats();
  const clusters = new ClusterManagerImpl({ stats, subscriptions: noSubscriptions });
  const httpFilters = builtinFilters();
  const routes = new RouteConfigStore(httpFilters, noSubscriptions);
  const networkFilters = registerBuiltins(new NetworkFilterRegistry());
  networkFilters.register(httpConnectionManagerFactory({ filters: httpFilters }));
  const listeners = new ListenerManager({ networkFilters, clusters, routes, stats, subscriptions: noSubscriptions, log: () => {} });
  return new Map<string, { handler: ResourceHandler; applies: boolean }>([
    [TYPE.listener, { handler: listeners, applies: false }],
    [TYPE.route, { handler: routes, applies: true }],
    [TYPE.cluster, { handler: clusters.cdsHandler, applies: false }],
    [TYPE.endpoint, { handler: clusters.edsHandler, applies: true }],
  ]);
}

const BYTE_MUTATION = fc.record({ op: fc.constantFrom('flip', 'cut', 'insert', 'repeat', 'set'), at: fc.nat(), len: fc.integer({ min: 1, max: 6 }), byte: fc.nat(255) });

function mutateBytes(bytes: Uint8Array, mutations: readonly { op: string; at: number; len: number; byte: number }[]): Buffer {
  let b = Buffer.from(bytes);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.op) {
      case 'flip': b[at] = b[at]! ^ (1 << (m.byte % 8)); break;
      case 'set': b[at] = m.byte; break;
      case 'cut': b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]); break;
      case 'insert': b = Buffer.concat([b.subarray(0, at), Buffer.alloc(m.len, m.byte), b.subarray(at)]); break;
      case 'repeat': b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at)]); break;
    }
  }
  return b;
}

const ODD_STRINGS = ['', ' ', '\0', 'x'.repeat(300), '*', '[a-', '(', '%', '/../', ':0', '-1', '999999999999', 'é', 'A.B', '*.*', '::1'];
const ODD_NUMBERS = [0, -1, 1, 2 ** 31 - 1, 2 ** 32 - 1, 65_536, 0.5];
const OTHER_ANY = ['type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', 'type.googleapis.com/google.protobuf.Struct'];

/** Every path to a value in `v` (object keys and array indexes). */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (prefix.length > 0) out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

/** A copy of `resource` with the value at one path changed: replaced by an odd one of its kind, dropped, or repeated. */
function mutateField(resource: Record<string, unknown>, pick: number, choice: number): Record<string, unknown> {
  const copy = structuredClone(resource);
  const all = paths(copy);
  const path = all[pick % all.length]!;
  let parent: unknown = copy;
  for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
  const key = path.at(-1)!;
  const holder = parent as Record<string | number, unknown>;
  const value = holder[key];
  // choice % 4 picks what to do, the rest which odd value.
  const odd = Math.floor(choice / 4);
  if (choice % 4 === 0) {
    // Dropped: an unset field, or a list one element shorter.
    if (Array.isArray(holder)) holder.splice(Number(key), 1);
    else delete holder[key];
  } else if (Array.isArray(holder) && choice % 4 === 1) {
    holder.splice(Number(key), 0, structuredClone(value)); // the element twice
  } else if (key === '@type') {
    holder[key] = OTHER_ANY[odd % OTHER_ANY.length];
  } else if (typeof value === 'string') {
    holder[key] = ODD_STRINGS[odd % ODD_STRINGS.length];
  } else if (typeof value === 'number') {
    holder[key] = ODD_NUMBERS[odd % ODD_NUMBERS.length];
  } else if (typeof value === 'boolean') {
    holder[key] = !value;
  } else if (Array.isArray(value)) {
    holder[key] = [];
  } else if (typeof value === 'object' && value !== null) {
    holder[key] = {};
  }
  return copy;
}

/** The mutated resource as the wire carries it, or undefined when weft's encoder refuses it (no server could send it). */
function wireBytes(seed: Seed, mutation: { field: boolean; pick: number; choice: number; bytes: readonly { op: string; at: number; len: number; byte: number }[] }): Uint8Array | undefined {
  if (!mutation.field) return mutateBytes(seed.bytes, mutation.bytes);
  try {
    return encodeResource(seed.typeUrl, mutateField(seed.resource, mutation.pick, mutation.choice));
  } catch {
    return undefined;
  }
}

const MUTATION = fc.record({ field: fc.boolean(), pick: fc.nat(), choice: fc.nat(), bytes: fc.array(BYTE_MUTATION, { minLength: 1, maxLength: 3 }) });

describe('xDS resources from a server, mutated', () => {
  const all = seeds();
  const h = handlers();

  it('has seeds of every type, and the proxy accepts every one unmutated', () => {
    for (const typeUrl of [TYPE.listener, TYPE.route, TYPE.cluster, TYPE.endpoint]) assert.ok(all.some((s) => s.typeUrl === typeUrl), typeUrl);
    for (const s of all) assert.deepEqual(h.get(s.typeUrl)!.handler.validate(s.name, decodeResource(s.typeUrl, s.bytes)), [], `${s.typeUrl} ${s.name}`);
  });

  it('are refused with named problems or accepted, never with a throw', () => {
    const outcomes = { unencodable: 0, undecodable: 0, refused: 0, accepted: 0 };
    fc.assert(fc.property(fc.nat(), MUTATION, (which, mutation) => {
      const seed = all[which % all.length]!;
      const bytes = wireBytes(seed, mutation);
      if (bytes === undefined) {
        outcomes.unencodable++;
        return;
      }
      let resource: Proto;
      try {
        resource = decodeResource(seed.typeUrl, bytes);
      } catch {
        outcomes.undecodable++;
        return; // the client NACKs what does not decode, naming the decoder's error
      }
      const { handler, applies } = h.get(seed.typeUrl)!;
      const problems = handler.validate(seed.name, resource);
      // Each problem names where, then what: `virtualHosts[2].routes[0].match: …`.
      for (const p of problems) assert.match(p, /^\S[^]*?: \S/, `a problem that names no field for ${seed.typeUrl} ${seed.name}`);
      if (problems.length > 0) {
        outcomes.refused++;
        return;
      }
      outcomes.accepted++;
      if (applies) handler.apply(new Map([[seed.name, resource]]), [], false);
    }), { numRuns: RUNS });
    assert.ok(outcomes.refused > RUNS / 20 && outcomes.accepted > RUNS / 20, `mutations reach validation both ways: ${JSON.stringify(outcomes)}`);
  });
});
