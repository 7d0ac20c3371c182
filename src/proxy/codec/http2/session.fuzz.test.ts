import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ByteWriter } from './byte-writer.ts';
import { CLIENT_PREFACE, ConnectionError, FrameReader, FrameType, writeFrameHeader, writeSettings } from './frames.ts';
import { HpackEncoder } from './hpack.ts';
import { DEFAULT_SETTINGS, H2Session } from './session.ts';

/** Just enough of a socket for a session: what it writes is kept, nothing is sent. */
class FakeSocket extends EventEmitter {
  readonly written: Buffer[] = [];
  destroyed = false;
  writable = true;
  write(chunk: Buffer): boolean {
    this.written.push(Buffer.from(chunk));
    return true;
  }
  cork(): void {}
  uncork(): void {}
  resume(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  end(): this {
    this.writable = false;
    return this;
  }
  destroySoon(): void {
    this.destroyed = true;
  }
}

/** The frame types a session sees, HEADERS and CONTINUATION with real HPACK blocks half of the time. */
const frame = fc.record({
  type: fc.integer({ min: 0, max: 10 }),
  flags: fc.integer({ min: 0, max: 255 }),
  streamId: fc.constantFrom(0, 1, 3, 5, 2, 0x7fffffff),
  payload: fc.uint8Array({ maxLength: 40 }),
  hpack: fc.boolean(),
});

describe('H2Session under arbitrary frames', () => {
  for (const role of ['server', 'client'] as const) it(`never throws as a ${role}: every sequence is served, or ends the connection with GOAWAY naming why`, () => {
    fc.assert(fc.property(fc.array(frame, { maxLength: 30 }), fc.integer({ min: 1, max: 64 }), (frames, split) => {
      const socket = new FakeSocket();
      let closedWith: Error | undefined;
      let closed = false;
      const session = new H2Session(socket as unknown as Socket, role, DEFAULT_SETTINGS, {
        stream(stream, fields) {
          assert.ok(fields.every((f) => typeof f === 'string'));
          stream.listener = { streamHeaders() {}, streamData() {}, streamDrain() {}, streamClose() {} };
          if (stream.id % 4 === 1) stream.sendHeaders([':status', '200'], false);
        },
        goaway() {},
        close(err) {
          closed = true;
          closedWith = err;
        },
      });
      const listener = { streamHeaders() {}, streamData() {}, streamDrain() {}, streamClose() {} };
      if (role === 'client') {
        session.request([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'x'], true, listener);
        session.request([':method', 'POST', ':scheme', 'http', ':path', '/', ':authority', 'x'], false, listener).write(Buffer.from('body'));
      }
      const w = new ByteWriter();
      if (role === 'server') {
        w.ensure(CLIENT_PREFACE.length);
        CLIENT_PREFACE.copy(w.buf, 0);
        w.pos = CLIENT_PREFACE.length;
      }
      writeSettings(w, new Map());
      const hpack = new HpackEncoder();
      for (const f of frames) {
        let payload: Buffer = Buffer.from(f.payload);
        if (f.hpack && (f.type === FrameType.HEADERS || f.type === FrameType.CONTINUATION)) {
          const block = new ByteWriter();
          const fields = role === 'server' ? [[':method', 'GET'], [':path', '/'], [':scheme', 'http']] : [[':status', f.flags % 2 === 0 ? '200' : '103']];
          for (const [name, value] of [...fields, ['x-n', String(payload.length)]]) hpack.field(name!, value!, block);
          payload = block.take();
        }
        writeFrameHeader(w, payload.length, f.type, f.flags, f.streamId);
        w.ensure(payload.length);
        payload.copy(w.buf, w.pos);
        w.pos += payload.length;
      }
      const bytes = w.take();
      // Delivered in pieces, as reads would.
      for (let i = 0; i < bytes.length; i += split) session.receive(bytes.subarray(i, i + split));
      session.flush();
      // A connection error of ours is named in our GOAWAY (a peer's GOAWAY with an error ends it without one).
      if (closed && closedWith instanceof ConnectionError) {
        let goaway: string | undefined;
        const reader = new FrameReader({ frame(type, _f, _s, payload) { if (type === FrameType.GOAWAY) goaway = payload.toString('latin1', 8); } });
        reader.maxFrameSize = 1 << 24;
        reader.push(Buffer.concat(socket.written).subarray(role === 'client' ? CLIENT_PREFACE.length : 0));
        assert.equal(goaway, closedWith.message, 'the GOAWAY names the error');
      }
    }), { numRuns: Number(process.env['FUZZ_RUNS'] ?? 300) });
  });
});
