/**
 * A fake `ResourceServer` for tests of anything that serves or consumes xDS: resources are set per
 * type as plain objects (encoded with the real protos), pushes are triggered by hand, and every call
 * is recorded. First-class test code: keep it small and honest to the contract.
 */

import type { ConnectedProxy, EncodedResource, Generated, PushEvent, ResourceServer, XdsNode } from './resource-server.ts';
import { contentVersion, encodeResource } from './protos.ts';
import { collectionOf, isCollectionType } from './type-urls.ts';

export interface FakeProxy extends ConnectedProxy {
  readonly node: XdsNode;
  readonly peer: string;
}

export class FakeResourceServer implements ResourceServer<FakeProxy> {
  readonly #resources = new Map<string, Map<string, EncodedResource>>();
  readonly #listeners = new Set<(event: PushEvent) => void>();
  #pushes = 0;
  /** When set, `connect` refuses every node with this reason. */
  refuse: string | undefined;
  /** When set, `generate` throws this for the type URL. */
  readonly failing = new Set<string>();
  readonly connected: FakeProxy[] = [];
  readonly disconnected: FakeProxy[] = [];
  readonly generated: { proxy: string; typeUrl: string; names: readonly string[] | undefined }[] = [];

  /** Replaces the resources of a type (objects must carry `name`, or `clusterName` for endpoints). */
  set(typeUrl: string, objects: readonly Record<string, unknown>[]): void {
    const map = new Map<string, EncodedResource>();
    for (const obj of objects) {
      const name = String(obj.name ?? obj.clusterName);
      const body = encodeResource(typeUrl, obj);
      map.set(name, { name, version: contentVersion(body), body });
    }
    this.#resources.set(typeUrl, map);
  }

  /** Notifies push listeners; absent types/proxies mean all. */
  push(partial: { types?: readonly string[]; proxies?: readonly string[]; changedAt?: number } = {}): void {
    const event: PushEvent = {
      version: String(++this.#pushes),
      reason: 'test',
      changedAt: partial.changedAt ?? performance.now(),
      ...(partial.types === undefined ? {} : { types: new Set(partial.types) }),
      ...(partial.proxies === undefined ? {} : { proxies: new Set(partial.proxies) }),
    };
    for (const l of this.#listeners) l(event);
  }

  connect(node: XdsNode, peer: string): FakeProxy | { readonly error: string } {
    if (this.refuse !== undefined) return { error: this.refuse };
    const proxy = { id: node.id, node, peer };
    this.connected.push(proxy);
    return proxy;
  }

  disconnect(proxy: FakeProxy): void {
    this.disconnected.push(proxy);
  }

  generate(proxy: FakeProxy, typeUrl: string, names: readonly string[] | undefined): Generated {
    this.generated.push({ proxy: proxy.id, typeUrl, names });
    if (this.failing.has(typeUrl)) throw new Error(`generator for ${typeUrl} failed`);
    const all = this.#resources.get(typeUrl) ?? new Map<string, EncodedResource>();
    const resources = names === undefined
      ? [...all.values()]
      : names.flatMap((n) => {
        // VHDS: a collection name (a route configuration's) stands for all of its virtual hosts.
        if (isCollectionType(typeUrl) && !all.has(n)) return [...all.values()].filter((r) => collectionOf(r.name) === n);
        const r = all.get(n);
        return r === undefined ? [] : [r];
      });
    const version = contentVersion(new TextEncoder().encode(resources.map((r) => `${r.name}@${r.version}`).join('\n')));
    return { version, resources };
  }

  onPush(listener: (event: PushEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
