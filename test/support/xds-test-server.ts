/**
 * The control plane's real ADS server over a fake resource server, for testing xDS clients: every
 * request the server receives is recorded (decoded, with its method), and the delta method can be left
 * out so the server answers UNIMPLEMENTED for it (an older or SotW-only control plane). Restartable on
 * the same port to test reconnects.
 */
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

/** Records the server's events and, besides, every request it decoded. */
class RequestRecorder extends RecordingObserver {
  readonly requests: RecordedRequest[] = [];

  request(info: { readonly mode: 'sotw' | 'delta'; readonly request: unknown }): void {
    this.requests.push({ method: info.mode, req: info.request as Record<string, any> });
  }
}

export class TestXdsServer {
  readonly ads: AdsServer;
  readonly resources: FakeResourceServer;
  readonly observer = new RequestRecorder();
  readonly requests = this.observer.requests;
  port = 0;

  private constructor(options: TestServerOptions) {
    this.resources = options.resources ?? new FakeResourceServer();
    this.ads = new AdsServer({ resources: this.resources, observer: this.observer, offerDelta: options.delta ?? true });
  }

  static async start(options: TestServerOptions = {}): Promise<TestXdsServer> {
    const s = new TestXdsServer(options);
    s.port = await s.ads.start({ host: '127.0.0.1', port: options.port ?? 0 });
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
  }
}
