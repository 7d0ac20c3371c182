/**
 * HTTP/2 framing (RFC 9113 §4, §6): the constants, a reader that cuts a byte stream into frames, and
 * writers for the frame header and the small control frames. Payloads are handed over as views of the
 * bytes read whenever a frame lies within one chunk; only a frame split across reads is copied.
 */
import type { ByteWriter } from './byte-writer.ts';

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Error codes (RFC 9113 §7). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

const ERROR_NAMES = Object.fromEntries(Object.entries(ErrorCode).map(([name, code]) => [code, name])) as Record<number, string>;

/** `PROTOCOL_ERROR`, or `0x1f` for a code RFC 9113 does not define. */
export function errorName(code: number): string {
  return ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

/** SETTINGS parameters (RFC 9113 §6.5.2, RFC 8441 §3). */
export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
} as const;

export const FRAME_HEADER_LENGTH = 9;
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const MAX_FRAME_SIZE_LIMIT = 16_777_215;
export const DEFAULT_WINDOW = 65_535;
export const MAX_WINDOW = 2 ** 31 - 1;
/** What a client sends first (RFC 9113 §3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** A connection error (RFC 9113 §5.4.1): the connection ends with GOAWAY carrying `code`. */
export class ConnectionError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** Receives the frames a `FrameReader` cuts; `payload` is valid only during the call unless copied. */
export interface FrameSink {
  frame(type: number, flags: number, streamId: number, payload: Buffer): void;
}

/**
 * Cuts frames out of the bytes read. A frame longer than `maxFrameSize` (our SETTINGS_MAX_FRAME_SIZE)
 * is a FRAME_SIZE_ERROR, thrown as `ConnectionError` before its payload is buffered.
 */
export class FrameReader {
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  readonly #sink: FrameSink;
  /** Bytes of an incomplete frame (or frame header) carried over from earlier reads. */
  #pending: Buffer | undefined;

  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.#pending !== undefined) {
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    let pos = 0;
    const end = buf.length;
    while (end - pos >= FRAME_HEADER_LENGTH) {
      const length = (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!;
      if (length > this.maxFrameSize) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${length} octets exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`);
      const frameEnd = pos + FRAME_HEADER_LENGTH + length;
      if (frameEnd > end) break;
      const type = buf[pos + 3]!;
      const flags = buf[pos + 4]!;
      const streamId = buf.readUInt32BE(pos + 5) & 0x7fffffff;
      this.#sink.frame(type, flags, streamId, buf.subarray(pos + FRAME_HEADER_LENGTH, frameEnd));
      pos = frameEnd;
    }
    if (pos < end) this.#pending = Buffer.from(buf.subarray(pos));
  }
}

export function writeFrameHeader(w: ByteWriter, length: number, type: number, flags: number, streamId: number): void {
  w.ensure(FRAME_HEADER_LENGTH);
  const buf = w.buf;
  const p = w.pos;
  buf[p] = length >>> 16;
  buf[p + 1] = (length >>> 8) & 0xff;
  buf[p + 2] = length & 0xff;
  buf[p + 3] = type;
  buf[p + 4] = flags;
  buf.writeUInt32BE(streamId, p + 5);
  w.pos = p + FRAME_HEADER_LENGTH;
}

/** Writes a 32-bit big-endian value at `w.pos`. */
function u32(w: ByteWriter, value: number): void {
  w.ensure(4);
  w.buf.writeUInt32BE(value >>> 0, w.pos);
  w.pos += 4;
}

export function writeSettings(w: ByteWriter, settings: ReadonlyMap<number, number>): void {
  writeFrameHeader(w, settings.size * 6, FrameType.SETTINGS, 0, 0);
  for (const [id, value] of settings) {
    w.ensure(2);
    w.buf.writeUInt16BE(id, w.pos);
    w.pos += 2;
    u32(w, value);
  }
}

export function writeSettingsAck(w: ByteWriter): void {
  writeFrameHeader(w, 0, FrameType.SETTINGS, Flag.ACK, 0);
}

export function writePing(w: ByteWriter, ack: boolean, opaque: Buffer): void {
  writeFrameHeader(w, 8, FrameType.PING, ack ? Flag.ACK : 0, 0);
  w.ensure(8);
  opaque.copy(w.buf, w.pos, 0, 8);
  w.pos += 8;
}

export function writeWindowUpdate(w: ByteWriter, streamId: number, increment: number): void {
  writeFrameHeader(w, 4, FrameType.WINDOW_UPDATE, 0, streamId);
  u32(w, increment);
}

export function writeRstStream(w: ByteWriter, streamId: number, code: number): void {
  writeFrameHeader(w, 4, FrameType.RST_STREAM, 0, streamId);
  u32(w, code);
}

/** GOAWAY with the last stream id processed, an error code, and a reason for the peer's logs. */
export function writeGoaway(w: ByteWriter, lastStreamId: number, code: number, reason: string): void {
  const debug = Buffer.from(reason.slice(0, 256), 'latin1');
  writeFrameHeader(w, 8 + debug.length, FrameType.GOAWAY, 0, 0);
  u32(w, lastStreamId);
  u32(w, code);
  w.ensure(debug.length);
  debug.copy(w.buf, w.pos);
  w.pos += debug.length;
}
