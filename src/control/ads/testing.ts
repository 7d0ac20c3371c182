/**
 * Test kit for the ADS server: a raw gRPC client over the same protos (plain-object requests and
 * responses), a stream wrapper whose reads are awaited, a bare HTTP/2 client that can stop reading
 * (grpc-js's own client keeps draining the connection even when paused), and an observer that records
 * events and lets a test wait for one. Reads time out only as a failure guard; nothing here sleeps.
 */

import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { frameMessage } from '../../xds/grpc-frames.ts';
import { messageType } from '../../xds/protos.ts';
import { ADS_SERVICE, adsClientDefinition, SOTW_ADS_PATH } from './service.ts';
import type { AdsObserver } from './types.ts';

export type Obj = Record<string, any>;

const GUARD_MS = 3000;

export class TestStream {
  readonly #call: grpc.ClientDuplexStream<Obj, Obj>;
  readonly #queue: Obj[] = [];
  #waiter: { resolve: (v: Obj) => void; reject: (e: Error) => void } | undefined;
  #status: grpc.StatusObject | undefined;
  readonly #statusWaiters: ((s: grpc.StatusObject) => void)[] = [];

  constructor(call: grpc.ClientDuplexStream<Obj, Obj>) {
    this.#call = call;
    call.on('data', (msg: Obj) => {
      if (this.#waiter !== undefined) {
        const w = this.#waiter;
        this.#waiter = undefined;
        w.resolve(msg);
      } else {
        this.#queue.push(msg);
      }
    });
    call.on('error', () => {}); // the status below carries the same information
    call.on('status', (s: grpc.StatusObject) => {
      this.#status = s;
      this.#waiter?.reject(Object.assign(new Error(`stream ended: ${s.code} ${s.details}`), { status: s }));
      this.#waiter = undefined;
      for (const w of this.#statusWaiters.splice(0)) w(s);
    });
  }

  send(req: Obj): void {
    this.#call.write(req);
  }

  /** The next response (rejects when the stream ends or after a guard timeout). */
  next(): Promise<Obj> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#status !== undefined) return Promise.reject(new Error(`stream ended: ${this.#status.code} ${this.#status.details}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new Error('no response within the guard time'));
      }, GUARD_MS);
      this.#waiter = {
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
    });
  }

  /** Responses already received and not yet read. */
  get buffered(): number {
    return this.#queue.length;
  }

  /** The final status of the stream (rejects after a guard timeout). */
  status(): Promise<grpc.StatusObject> {
    if (this.#status !== undefined) return Promise.resolve(this.#status);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('stream did not end within the guard time')), GUARD_MS);
      this.#statusWaiters.push((s) => { clearTimeout(timer); resolve(s); });
    });
  }

  end(): void {
    this.#call.end();
  }

  cancel(): void {
    this.#call.cancel();
  }
}

export class AdsTestClient {
  readonly #client: grpc.Client & Record<string, (...args: unknown[]) => grpc.ClientDuplexStream<Obj, Obj>>;

  constructor(port: number) {
    const Ctor = grpc.makeClientConstructor(adsClientDefinition(), ADS_SERVICE);
    this.#client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
  }

  sotw(): TestStream {
    return new TestStream(this.#client.StreamAggregatedResources!());
  }

  delta(): TestStream {
    return new TestStream(this.#client.DeltaAggregatedResources!());
  }

  close(): void {
    this.#client.close();
  }
}

/**
 * One state-of-the-world ADS stream over a bare HTTP/2 session (gRPC framing by hand). `pause()` stops
 * reading, so the client's flow-control window closes and the server's writes stay in flight, as with
 * an Envoy that stopped reading.
 */
export class SlowSotwClient {
  readonly #session: http2.ClientHttp2Session;
  readonly #stream: http2.ClientHttp2Stream;
  readonly #request = messageType('envoy.service.discovery.v3.DiscoveryRequest');
  readonly #response = messageType('envoy.service.discovery.v3.DiscoveryResponse');
  #buffered = Buffer.alloc(0);
  readonly #queue: Obj[] = [];
  readonly #waiters: ((res: Obj) => void)[] = [];
  /** Responses received so far. */
  received = 0;

  constructor(port: number) {
    this.#session = http2.connect(`http://127.0.0.1:${port}`);
    this.#session.on('error', () => {});
    this.#stream = this.#session.request({
      ':method': 'POST', ':path': SOTW_ADS_PATH, 'content-type': 'application/grpc', te: 'trailers',
    });
    this.#stream.on('error', () => {});
    this.#stream.on('data', (chunk: Buffer) => this.#onData(chunk));
  }

  send(req: Obj): void {
    this.sendTogether([req]);
  }

  /** Sends `reqs` in one write (they reach the server in one read, as a burst from Envoy does). */
  sendTogether(reqs: readonly Obj[]): void {
    this.#stream.write(Buffer.concat(reqs.map((req) => frameMessage(this.#request.encode(this.#request.fromObject(req)).finish()))));
  }

  pause(): void {
    this.#stream.pause();
  }

  resume(): void {
    this.#stream.resume();
  }

  /** The next response (rejects after a guard timeout). */
  next(): Promise<Obj> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no response within the guard time')), GUARD_MS);
      this.#waiters.push((res) => { clearTimeout(timer); resolve(res); });
    });
  }

  /** Cancels the stream and drops the connection (as a client that went away). */
  close(): void {
    this.#stream.close(http2.constants.NGHTTP2_CANCEL);
    this.#session.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    while (this.#buffered.length >= 5 && this.#buffered.length >= 5 + this.#buffered.readUInt32BE(1)) {
      const len = this.#buffered.readUInt32BE(1);
      const res = this.#response.toObject(this.#response.decode(this.#buffered.subarray(5, 5 + len)), { enums: String, longs: Number, json: true });
      this.#buffered = this.#buffered.subarray(5 + len);
      this.received++;
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter(res);
      else this.#queue.push(res);
    }
  }
}

export interface ObservedEvent {
  readonly kind: 'connections' | 'pushSent' | 'pushDone' | 'ack' | 'nack' | 'streamError';
  readonly [key: string]: unknown;
}

/** An `AdsObserver` that records every event. */
export class RecordingObserver implements AdsObserver {
  readonly events: ObservedEvent[] = [];
  readonly #waiters: { pred: (e: ObservedEvent) => boolean; resolve: (e: ObservedEvent) => void }[] = [];

  connections(count: number): void { this.#record({ kind: 'connections', count }); }
  pushSent(info: object): void { this.#record({ kind: 'pushSent', ...info }); }
  pushDone(info: object): void { this.#record({ kind: 'pushDone', ...info }); }
  ack(info: object): void { this.#record({ kind: 'ack', ...info }); }
  nack(info: object): void { this.#record({ kind: 'nack', ...info }); }
  streamError(info: object): void { this.#record({ kind: 'streamError', ...info }); }

  /** Resolves with the first recorded event (past or future) matching `pred`. */
  waitFor(pred: (e: ObservedEvent) => boolean): Promise<ObservedEvent> {
    const seen = this.events.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('event not observed within the guard time')), GUARD_MS);
      this.#waiters.push({ pred, resolve: (e) => { clearTimeout(timer); resolve(e); } });
    });
  }

  #record(e: ObservedEvent): void {
    this.events.push(e);
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (w.pred(e)) {
        this.#waiters.splice(i, 1);
        w.resolve(e);
      }
    }
  }
}
