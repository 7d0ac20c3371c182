import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import { PassThrough, type Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { Stats } from '../core/stats.ts';
import { ActiveStream, type HcmRuntime } from './active-stream.ts';
import type { Downstream, DownstreamListener } from './downstream.ts';
import { HttpFilterRegistry, STOP, type HttpFilter, type HttpFilterFactory } from './filter.ts';
import { compileHcm } from './hcm-config.ts';
import { HcmStats } from './hcm-stats.ts';
import { routerFilterFactory } from './filters/router-filter.ts';
import { Problems } from './router/proto.ts';
import { compileRouteConfiguration, selectRoute } from './router/index.ts';
import type { StreamInfo } from './stream-info.ts';

class FakeDownstream implements Downstream {
  readonly protocol = 'HTTP/1.1' as const;
  readonly method = 'GET';
  readonly authority = 'svc';
  readonly path: string;
  readonly absoluteForm = false;
  readonly headers = {};
  readonly headerCount = 1;
  readonly upgrade = undefined;
  readonly connect = false;
  readonly hasBody = false;
  readonly body = new PassThrough();
  headersSent = false;
  closed = false;
  head: { status: number; headers: OutgoingHttpHeaders } | undefined;
  chunks: Buffer[] = [];
  ended = false;
  #listener: DownstreamListener | undefined;
  constructor(path: string) {
    this.path = path;
  }
  writeHead(status: number, headers: OutgoingHttpHeaders, endStream: boolean): void {
    this.head = { status, headers };
    this.headersSent = true;
    if (endStream) this.end();
  }
  expectTrailers(): void {}
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }
  end(): void {
    this.ended = true;
    this.closed = true;
    queueMicrotask(() => this.#listener?.downstreamClosed());
  }
  onDrain(): void {}
  attach(listener: DownstreamListener): void {
    this.#listener = listener;
  }
  retractHead(): boolean {
    return false;
  }
  reset(): void {
    this.closed = true;
  }
  tunnel(): Duplex | undefined {
    return undefined;
  }
}

const trace: string[] = [];

function tracer(tag: string, behaviour: (s: Parameters<NonNullable<HttpFilter['decodeHeaders']>>[0]) => ReturnType<NonNullable<HttpFilter['decodeHeaders']>>): HttpFilterFactory<null, never> {
  return {
    typeUrl: `type.googleapis.com/test.${tag}`,
    parse: () => ({ config: null, problems: [] }),
    prepare: () => () => ({
      decodeHeaders: (s) => {
        trace.push(`decode ${tag}`);
        return behaviour(s);
      },
      encodeHeaders: (_s, head) => {
        trace.push(`encode ${tag}`);
        head.headers[`x-${tag}`] = '1';
      },
      onDestroy: () => {
        trace.push(`destroy ${tag}`);
      },
    }),
  };
}

function runtime(factories: HttpFilterFactory<null, never>[], log: StreamInfo[]): HcmRuntime {
  const registry = new HttpFilterRegistry().register(routerFilterFactory);
  for (const f of factories) registry.register(f);
  const problems = new Problems();
  const routes = compileRouteConfiguration({ name: 'r', virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { path: '/direct' }, directResponse: { status: 200, body: { inlineString: 'hi' } } }] }] });
  const config = compileHcm({
    statPrefix: 't',
    routeConfig: {},
    httpFilters: [...factories.map((f, i) => ({ name: `f${i}`, typedConfig: { '@type': f.typeUrl } })), { name: 'router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
  }, registry, problems);
  assert.deepEqual(problems.list, []);
  const stats = new Stats();
  const hstats = new HcmStats(stats, 't');
  return {
    config,
    stats: hstats,
    clusters: { cluster: () => undefined },
    filters: config.filters,
    makers: config.filters.map((s) => s.factory.prepare(s.config, { name: s.name, statPrefix: hstats.prefix, stats })),
    routes: () => routes.config,
    selectRoute,
    accessLog: (info) => log.push(info),
  };
}

const conn = { remoteAddress: '10.0.0.1', remotePort: 1, localAddress: '10.0.0.2', localPort: 80, tls: false };

describe('active stream: the filter lifecycle', () => {
  it('decodes in order, encodes in reverse, destroys all, logs once', async () => {
    trace.length = 0;
    const log: StreamInfo[] = [];
    const down = new FakeDownstream('/direct');
    new ActiveStream(runtime([tracer('a', () => undefined), tracer('b', () => undefined)], log), down, conn).start();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(trace, ['decode a', 'decode b', 'encode b', 'encode a', 'destroy a', 'destroy b']);
    assert.equal(down.head?.status, 200);
    assert.equal(down.head?.headers['x-a'], '1');
    assert.equal(Buffer.concat(down.chunks).toString(), 'hi');
    assert.equal(log.length, 1);
  });

  it('a promise pauses the chain; STOP ends it; a local reply goes through earlier filters only', async () => {
    trace.length = 0;
    const down = new FakeDownstream('/direct');
    const rt = runtime([
      tracer('a', () => undefined),
      tracer('b', () => new Promise((r) => setTimeout(() => r(undefined), 5))),
      tracer('c', (s) => {
        s.sendLocalReply({ status: 429, flags: 0, details: 'test', cause: 'slow down' });
        return STOP;
      }),
    ], []);
    new ActiveStream(rt, down, conn).start();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(trace, ['decode a', 'decode b', 'decode c', 'encode b', 'encode a', 'destroy a', 'destroy b', 'destroy c']);
    assert.equal(down.head?.status, 429);
    assert.equal(down.head?.headers['x-weft-error'], 'slow down');
    assert.equal(down.head?.headers['x-c'], undefined);
  });

  it('a filter that throws becomes a 500 local reply', async () => {
    const down = new FakeDownstream('/direct');
    new ActiveStream(runtime([tracer('boom', () => {
      throw new Error('kaput');
    })], []), down, conn).start();
    assert.equal(down.head?.status, 500);
    assert.equal(down.head?.headers['x-weft-error'], 'internal error in HTTP filter: kaput');
  });

  it('a rejected promise becomes a 500 too', async () => {
    const down = new FakeDownstream('/direct');
    new ActiveStream(runtime([tracer('later', () => Promise.reject(new Error('async kaput')))], []), down, conn).start();
    await new Promise((r) => setImmediate(r));
    assert.equal(down.head?.status, 500);
  });
});
