/**
 * Test doubles for the proxy's xDS consumers: a `ResourceHandler` that records every `apply`, keeps the
 * resulting view of the type (full set for Listener/Cluster, accumulated for the rest), and rejects
 * resources by a rule the test sets. Plus minimal valid Envoy resources as plain objects.
 */
import type { Proto, ResourceHandler } from '../../src/proxy/core/contracts.ts';

export interface ApplyCall {
  readonly resources: ReadonlyMap<string, Proto>;
  readonly removed: readonly string[];
  readonly complete: boolean;
}

export class RecordingHandler implements ResourceHandler {
  readonly typeUrl: string;
  readonly applies: ApplyCall[] = [];
  /** The type as the proxy would hold it after every apply so far. */
  readonly view = new Map<string, Proto>();
  /** Problems for a resource (empty: valid). */
  reject: (name: string, resource: Proto) => string[] = () => [];
  /** Runs after each apply (e.g. to `want` the names a listener or cluster refers to). */
  after: ((call: ApplyCall) => void) | undefined;

  constructor(typeUrl: string) {
    this.typeUrl = typeUrl;
  }

  validate(name: string, resource: Proto): string[] {
    return this.reject(name, resource);
  }

  apply(resources: ReadonlyMap<string, Proto>, removed: readonly string[], complete: boolean): void {
    const call = { resources: new Map(resources), removed: [...removed], complete };
    this.applies.push(call);
    if (complete) this.view.clear();
    for (const n of removed) this.view.delete(n);
    for (const [n, r] of resources) this.view.set(n, r);
    this.after?.(call);
  }

  names(): string[] {
    return [...this.view.keys()].sort();
  }
}

export const listener = (name: string, port: number): Record<string, unknown> => ({
  name, address: { socketAddress: { address: '127.0.0.1', portValue: port } },
});

export const cluster = (name: string): Record<string, unknown> => ({
  name, type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} } },
});

export const routes = (name: string, domain: string): Record<string, unknown> => ({
  name, virtualHosts: [{ name: 'vh', domains: [domain] }],
});

export const endpoints = (clusterName: string, ...ports: number[]): Record<string, unknown> => ({
  clusterName,
  endpoints: [{ lbEndpoints: ports.map((p) => ({ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: p } } } })) }],
});

/** Port of the first endpoint of a decoded ClusterLoadAssignment. */
export function firstPort(cla: Proto | undefined): number | undefined {
  const e = (cla as any)?.endpoints?.[0]?.lbEndpoints?.[0]?.endpoint?.address?.socketAddress?.portValue;
  return typeof e === 'number' ? e : undefined;
}
