/**
 * The control plane's real ADS server over a fake resource server, for testing xDS clients: every
 * request the server receives is recorded (decoded, with its method), and the delta method can be left
 * out so the server answers UNIMPLEMENTED for it (an older or SotW-only control plane). Restartable on
 * the same port to test reconnects.
 */
import * as grpc from '@grpc/grpc-js';
import { AdsServer } from '../../src/control/ads/index.ts';
import { RecordingObserver } from '../../src/control/ads/testing.ts';
import { FakeResourceServer } from '../../src/xds/fake-resource-server.ts';

export interface RecordedRequest {
  readonly method: 'sotw' | 'delta';
  readonly req: Record<string, any>;
}

export interface TestServerOptions {
  /** Offer `DeltaAggregatedResources` (default true). */
  readonly delta?: boolean;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly resources?: FakeResourceServer;
}

const METHODS: Record<string, 'sotw' | 'delta'> = { StreamAggregatedResources: 'sotw', DeltaAggregatedResources: 'delta' };

export class TestXdsServer {
  readonly ads: AdsServer;
  readonly resources: FakeResourceServer;
  readonly observer = new RecordingObserver();
  readonly requests: RecordedRequest[] = [];
  readonly #server: grpc.Server;
  port = 0;

  private constructor(options: TestServerOptions) {
    this.resources = options.resources ?? new FakeResourceServer();
    this.ads = new AdsServer({ resources: this.resources, observer: this.observer });
    this.#server = new grpc.Server();
    const delta = options.delta ?? true;
    const requests = this.requests;
    const server = this.#server;
    // A stand-in for grpc.Server that records requests and can leave the delta method out.
    const shim = {
      addService(def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): void {
        const d: Record<string, grpc.MethodDefinition<any, any>> = {};
        const i: grpc.UntypedServiceImplementation = {};
        for (const [name, method] of Object.entries(def)) {
          const kind = METHODS[name];
          const handler = impl[name] as (call: grpc.ServerDuplexStream<any, any>) => void;
          if (kind === undefined || (kind === 'delta' && !delta)) continue;
          d[name] = method;
          i[name] = (call: grpc.ServerDuplexStream<any, any>) => {
            call.on('data', (req: Record<string, any>) => requests.push({ method: kind, req }));
            handler(call);
          };
        }
        server.addService(d, i);
      },
    };
    this.ads.attach(shim as unknown as grpc.Server);
  }

  static async start(options: TestServerOptions = {}): Promise<TestXdsServer> {
    const s = new TestXdsServer(options);
    s.port = await new Promise<number>((resolve, reject) => {
      s.#server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err === null ? resolve(port) : reject(err)));
    });
    return s;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Requests of `typeUrl` received so far. */
  requestsOf(typeUrl: string): RecordedRequest[] {
    return this.requests.filter((r) => r.req.typeUrl === typeUrl);
  }

  async stop(): Promise<void> {
    await this.ads.stop();
    this.#server.forceShutdown();
  }
}
