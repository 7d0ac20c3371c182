/** Shared fixtures for the ADS tests: small but real xDS resources, a node, and a server on a free port. */

import { FakeResourceServer } from '../../xds/fake-resource-server.ts';
import { jsToStruct } from '../../xds/protos.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { AdsServer } from './server.ts';
import type { AdsServerOptions } from './server.ts';
import { AdsTestClient, RecordingObserver } from './testing.ts';
import type { Obj, TestStream } from './testing.ts';

export function cluster(name: string, timeoutSeconds = 1): Obj {
  return { name, type: 'EDS', connectTimeout: { seconds: timeoutSeconds }, edsClusterConfig: { edsConfig: { ads: {} } } };
}

export function endpoints(clusterName: string, port = 9080): Obj {
  return {
    clusterName,
    endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.1.1', portValue: port } } } }] }],
  };
}

export function listener(name: string, port = 15001): Obj {
  return { name, address: { socketAddress: { address: '0.0.0.0', portValue: port } } };
}

export function route(name: string, domain = '*'): Obj {
  return { name, virtualHosts: [{ name: 'vh', domains: [domain] }] };
}

export function node(id = 'sidecar~127.0.1.1~a.default~default.svc.cluster.local'): Obj {
  return { id, cluster: 'a.default', metadata: jsToStruct({ NAMESPACE: 'default', LABELS: { app: 'a' } }) };
}

export interface Harness {
  readonly resources: FakeResourceServer;
  readonly observer: RecordingObserver;
  readonly server: AdsServer<any>;
  readonly client: AdsTestClient;
  readonly port: number;
  close(): Promise<void>;
}

/** A fake resource server with two of each type, an ADS server on a free loopback port, and a client. */
export async function harness(options: Omit<AdsServerOptions<any>, 'resources' | 'observer'> = {}): Promise<Harness> {
  const resources = new FakeResourceServer();
  resources.set(TYPE.cluster, [cluster('c1'), cluster('c2')]);
  resources.set(TYPE.endpoint, [endpoints('c1'), endpoints('c2')]);
  resources.set(TYPE.listener, [listener('l1'), listener('l2', 15006)]);
  resources.set(TYPE.route, [route('r1'), route('r2')]);
  const observer = new RecordingObserver();
  const server = new AdsServer({ resources, observer, controlPlaneId: 'weft-test', ...options });
  const port = await server.start({ host: '127.0.0.1', port: 0 });
  const client = new AdsTestClient(port);
  return {
    resources, observer, server, client, port,
    async close() {
      client.close();
      await server.stop();
    },
  };
}

/** Resolves once `pred` holds, checking after every event-loop turn (rejects after a guard time). */
export async function until(pred: () => boolean, guardMs = 3000): Promise<void> {
  const start = performance.now();
  while (!pred()) {
    if (performance.now() - start > guardMs) throw new Error('condition not met within the guard time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Lets the server handle what was queued in this turn (its push drain runs on `setImmediate`). */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const names = (res: Obj): string[] => (res.resources ?? []).map((r: Obj) => r.name ?? r.clusterName).sort();

/**
 * Proves nothing else is on its way: waits until the server has handled queued pushes, then asks for
 * a fresh secret name on the same stream; the next response must answer that request, since any
 * response written earlier would arrive first.
 */
export class Barrier {
  #n = 0;
  #nonce = '';
  readonly #stream: TestStream;
  readonly #server: AdsServer<any>;
  readonly #delta: boolean;

  constructor(stream: TestStream, server: AdsServer<any>, delta = false) {
    this.#stream = stream;
    this.#server = server;
    this.#delta = delta;
  }

  async check(): Promise<void> {
    await this.#server.idle();
    const name = `barrier-${++this.#n}`;
    if (this.#delta) this.#stream.send({ typeUrl: TYPE.secret, resourceNamesSubscribe: [name] });
    else this.#stream.send({ typeUrl: TYPE.secret, resourceNames: [name], responseNonce: this.#nonce });
    const res = await this.#stream.next();
    if (res.typeUrl !== TYPE.secret) throw new Error(`unexpected response before the barrier: ${res.typeUrl} ${JSON.stringify(names(res))}`);
    this.#nonce = res.nonce;
  }
}
