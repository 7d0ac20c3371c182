/**
 * An HTTP/2 connection (RFC 9113) on a socket, as server or client: the preface and SETTINGS exchange,
 * the stream state machine, both levels of flow control, HPACK in both directions, PING, GOAWAY, and the
 * error handling of §5.4 (a stream error resets one stream; a connection error sends GOAWAY and closes).
 *
 * Output is batched: every frame made during one tick goes into one buffer, written once at the end of
 * the tick (a large DATA payload is written as it is, behind its frame header, not copied). Input is cut
 * into frames without copying when a frame lies within one read.
 *
 * What this layer does not judge: whether a header block is a valid HTTP message (pseudo-headers,
 * connection-specific fields; `fields.ts`), and what a request means. It does enforce what keeps the
 * connection sound: stream ids and states, window arithmetic, frame sizes, the header list size it
 * advertised, and `content-length` against the DATA that follows (when the HTTP layer declares it).
 */
import type { Socket } from 'node:net';
import { SocketReader } from '../../core/socket-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import {
  CLIENT_PREFACE, ConnectionError, DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, ErrorCode, errorName, Flag, FrameReader, FrameType, MAX_FRAME_SIZE_LIMIT, MAX_WINDOW, Setting, writeFrameHeader, writeGoaway, writePing, writeRstStream,
  writeSettings, writeSettingsAck, writeWindowUpdate, type FrameSink,
} from './frames.ts';
import { HpackDecoder, HpackEncodeError, HpackEncoder, HpackError } from './hpack.ts';
import { H2Stream, type StreamListener } from './stream.ts';

export interface SessionSettings {
  /** Streams the peer may open at once (server role: requests in flight). */
  readonly maxConcurrentStreams: number;
  /** Each stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE). */
  readonly initialWindowSize: number;
  /** The connection's receive window (raised from 65,535 by a WINDOW_UPDATE at start). */
  readonly connectionWindowSize: number;
  /** The largest frame accepted (SETTINGS_MAX_FRAME_SIZE). */
  readonly maxFrameSize: number;
  /** Advertised SETTINGS_MAX_HEADER_LIST_SIZE; a larger header block is still decoded, and reported. */
  readonly maxHeaderListSize: number;
  /** SETTINGS_HEADER_TABLE_SIZE for the peer's encoder. */
  readonly headerTableSize: number;
  /** SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441, extended CONNECT for WebSocket). */
  readonly enableConnectProtocol: boolean;
}

export const DEFAULT_SETTINGS: SessionSettings = {
  maxConcurrentStreams: 1024,
  initialWindowSize: 1024 * 1024,
  connectionWindowSize: 4 * 1024 * 1024,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxHeaderListSize: 60 * 1024,
  headerTableSize: 4096,
  enableConnectProtocol: false,
};

/** Counters a session keeps, named after Envoy's HTTP/2 codec statistics (`http2.*`); any may be shared. */
export interface SessionCounters {
  /** RST_STREAM frames received. */
  readonly rxReset: { value: number };
  /** RST_STREAM frames sent. */
  readonly txReset: { value: number };
  /** Streams reset for breaking RFC 9113's message rules (`content-length` against DATA, here). */
  readonly rxMessagingError: { value: number };
  /** GOAWAY frames sent. */
  readonly goawaySent: { value: number };
  /** Connections ended for empty DATA frames in a row. */
  readonly inboundEmptyFramesFlood: { value: number };
  /** Connections ended for control frames (SETTINGS and PING acknowledgements, RST_STREAM) the peer did not read. */
  readonly outboundControlFlood: { value: number };
  /** Connections ended for a header block too large or in too many CONTINUATION frames. */
  readonly headerOverflow: { value: number };
  /** Connections ended for streams reset prematurely ("rapid reset"). */
  readonly prematureResets: { value: number };
}

/**
 * The counters under Envoy's `http2.*` names, each made by `counter` from its name (in the caller's stats
 * scope). `prematureResets` is the connection manager's own (`http.<prefix>.…`); a client has none.
 */
export function http2Counters(counter: (name: string) => { value: number }, prematureResets: { value: number } = { value: 0 }): SessionCounters {
  return {
    rxReset: counter('http2.rx_reset'),
    txReset: counter('http2.tx_reset'),
    rxMessagingError: counter('http2.rx_messaging_error'),
    goawaySent: counter('http2.goaway_sent'),
    inboundEmptyFramesFlood: counter('http2.inbound_empty_frames_flood'),
    outboundControlFlood: counter('http2.outbound_control_flood'),
    headerOverflow: counter('http2.header_overflow'),
    prematureResets,
  };
}

/** Counters nobody reads (a session made without any). */
const NO_COUNTERS = http2Counters(() => ({ value: 0 }));

export interface SessionHandler {
  /**
   * Server role: a request stream's head. `headerListSize` is RFC 9113's measure of the block, which may
   * exceed `maxHeaderListSize` (the HTTP layer answers 431). Attach a listener before returning.
   */
  stream(stream: H2Stream, fields: string[], endStream: boolean, headerListSize: number): void;
  /** The peer's SETTINGS were applied (a client's pool may open more streams now). */
  settings?(): void;
  /** The peer sent GOAWAY: no new streams; streams above `lastStreamId` were refused (reset as REFUSED_STREAM). */
  goaway(code: number, lastStreamId: number): void;
  /** The session is over; `error` names the connection error when it ended on one (ours or the peer's). */
  close(error: Error | undefined): void;
}

/** Header blocks larger than this (all CONTINUATION frames together) end the connection: no decoder state to keep. */
const MAX_HEADER_BLOCK = 256 * 1024;
/**
 * CONTINUATION frames after one HEADERS frame (nghttp2's default, which Envoy runs with): more end the
 * connection, so that empty ones cannot be sent without end (CVE-2024-27316's class of attack).
 */
const MAX_CONTINUATIONS = 8;
/** Entries in one SETTINGS frame (nghttp2's default): each may cost a walk over every stream. */
const MAX_SETTINGS_ENTRIES = 32;
/**
 * Abuse limits (Envoy's defaults in spirit): control frames answered while the peer does not read; empty
 * DATA frames in a row; streams the peer resets within a second and before their response completes
 * ("rapid reset", CVE-2023-44487), checked once this many streams were opened, against half of them
 * (Envoy's defaults: overload.premature_reset_total_stream_count 500, min stream lifetime 1 s).
 */
const MAX_CONTROL_WHILE_BLOCKED = 10_000;
const MAX_EMPTY_DATA_IN_A_ROW = 100;
const PREMATURE_RESET_MIN_STREAMS = 500;
/** A peer's reset counts as premature within this long of the stream's start. */
const PREMATURE_RESET_MS = 1000;
/** How many reset streams `#recentlyReset` remembers. */
const RECENT_RESETS = 128;
/** Payloads at least this large are written as they are rather than copied into the batch. */
const COPY_LIMIT = 4096;

const blockWriter = new ByteWriter(16 * 1024);

function noop(): void {}

function flushLater(session: H2Session): void {
  session.flush();
}

export class H2Session implements FrameSink {
  readonly socket: Socket;
  readonly role: 'server' | 'client';
  readonly #settings: SessionSettings;
  readonly #handler: SessionHandler;
  readonly #reader: FrameReader;
  readonly #decoder: HpackDecoder;
  readonly #encoder = new HpackEncoder();
  readonly #streams = new Map<number, H2Stream>();
  /** Streams with queued body bytes or a pending drain. */
  readonly #waiting = new Set<H2Stream>();
  /** Streams this end reset lately: frames the peer sent before it knew are dropped, not errors. */
  readonly #recentlyReset = new Set<number>();
  readonly #out = new ByteWriter(16 * 1024);
  readonly #chunks: Buffer[] = [];
  #flushScheduled = false;
  /** The socket's buffer is full: body bytes wait for its 'drain'. */
  #blocked = false;

  // Peer's settings.
  #peerInitialWindow = DEFAULT_WINDOW;
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  #peerMaxStreams = Infinity;

  #sendWindow = DEFAULT_WINDOW;
  #recvWindow: number;
  #recvConsumed = 0;
  /** Our SETTINGS are acknowledged: our initial window is in force. */
  #settingsAcked = false;
  #prefaceNeeded: number;
  #firstFrame = true;
  /** A header block in progress: its stream, flags of the HEADERS frame, and fragments. */
  #continuation: { streamId: number; endStream: boolean; fragments: Buffer[]; size: number; frames: number } | undefined;

  /** Highest stream id the peer opened; highest we opened. (A server's open streams are all the peer's, a client's all its own: no push.) */
  lastPeerStream = 0;
  #lastLocalStream = 0;
  /** Streams the peer opened, and how many of them it reset before their response was complete. */
  #peerOpened = 0;
  #peerResets = 0;
  #controlWhileBlocked = 0;
  #emptyData = 0;
  /** PINGs this end sent, by the number in their payload, waiting for the peer's ACK. */
  readonly #pings = new Map<number, (acked: boolean) => void>();
  #pingSeq = 0;
  /** We sent GOAWAY: no new peer streams. */
  #goingAway = false;
  /** The peer sent GOAWAY: no new local streams. */
  peerGoneAway = false;
  closed = false;
  /** When the session last had no stream open (`performance.now()`; since it started, until its first). */
  idleSince = performance.now();

  readonly #counters: SessionCounters;

  /**
   * Reads `socket` from now on. `input`: bytes already read from it (a sniffed preface), or the
   * `SocketReader` the socket was opened with (its reads come through that, not 'data').
   */
  constructor(socket: Socket, role: 'server' | 'client', settings: SessionSettings, handler: SessionHandler, input?: Buffer | SocketReader, counters: SessionCounters = NO_COUNTERS) {
    this.socket = socket;
    this.#counters = counters;
    this.role = role;
    this.#settings = settings;
    this.#handler = handler;
    this.#reader = new FrameReader(this);
    this.#reader.maxFrameSize = settings.maxFrameSize;
    this.#decoder = new HpackDecoder(settings.headerTableSize);
    this.#recvWindow = DEFAULT_WINDOW;
    this.#prefaceNeeded = role === 'server' ? CLIENT_PREFACE.length : 0;
    const out = this.#out;
    if (role === 'client') {
      out.ensure(CLIENT_PREFACE.length);
      CLIENT_PREFACE.copy(out.buf, out.pos);
      out.pos += CLIENT_PREFACE.length;
    }
    const ours = new Map<number, number>([
      [Setting.MAX_CONCURRENT_STREAMS, settings.maxConcurrentStreams],
      [Setting.INITIAL_WINDOW_SIZE, settings.initialWindowSize],
      [Setting.MAX_FRAME_SIZE, settings.maxFrameSize],
      [Setting.MAX_HEADER_LIST_SIZE, settings.maxHeaderListSize],
    ]);
    if (settings.headerTableSize !== 4096) ours.set(Setting.HEADER_TABLE_SIZE, settings.headerTableSize);
    if (role === 'client') ours.set(Setting.ENABLE_PUSH, 0);
    if (role === 'server' && settings.enableConnectProtocol) ours.set(Setting.ENABLE_CONNECT_PROTOCOL, 1);
    writeSettings(out, ours);
    if (settings.connectionWindowSize > DEFAULT_WINDOW) {
      writeWindowUpdate(out, 0, settings.connectionWindowSize - DEFAULT_WINDOW);
      this.#recvWindow = settings.connectionWindowSize;
    }
    this.#schedule();
    socket.on('drain', () => this.#drained());
    const receive = (chunk: Buffer): void => this.receive(chunk);
    if (input instanceof SocketReader) input.target = receive;
    else socket.on('data', receive);
    socket.on('end', () => this.socketClosed());
    socket.on('close', () => this.socketClosed());
    socket.on('error', noop);
    socket.resume(); // a socket sniffed for its protocol may have been paused
    // Small frames (WINDOW_UPDATE, SETTINGS and PING acknowledgements, the tail of a window's DATA) must not
    // wait for the peer's delayed ACK: with Nagle on, each window round trip could stall 40 ms.
    socket.setNoDelay(true);
    if (input instanceof Uint8Array && input.length > 0) this.receive(input);
  }

  /** Streams open now. */
  get activeStreams(): number {
    return this.#streams.size;
  }

  /** The streams open now (for timeouts the HTTP layer checks). */
  openStreams(): IterableIterator<H2Stream> {
    return this.#streams.values();
  }

  /** Whether a new local stream may be opened (client role). */
  get canOpen(): boolean {
    return !this.closed && !this.peerGoneAway && this.#streams.size < this.#peerMaxStreams && this.#lastLocalStream < MAX_WINDOW - 2;
  }

  // ---- input ----

  /** Bytes read from the socket. Never throws: errors end the connection. */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    try {
      if (this.#prefaceNeeded > 0) {
        const offset = CLIENT_PREFACE.length - this.#prefaceNeeded;
        const n = Math.min(this.#prefaceNeeded, chunk.length);
        if (CLIENT_PREFACE.compare(chunk, 0, n, offset, offset + n) !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'invalid connection preface');
        this.#prefaceNeeded -= n;
        if (n === chunk.length) return;
        chunk = chunk.subarray(n);
      }
      this.#reader.push(chunk);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** The socket ended or closed: every open stream is over. */
  socketClosed(): void {
    if (this.closed) return;
    this.#close(undefined, ErrorCode.CANCEL);
  }

  frame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.#firstFrame) {
      this.#firstFrame = false;
      if (type !== FrameType.SETTINGS || (flags & Flag.ACK) !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'the first frame from the peer is not SETTINGS');
    }
    if (this.#continuation !== undefined && (type !== FrameType.CONTINUATION || streamId !== this.#continuation.streamId)) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `expected CONTINUATION of stream ${this.#continuation.streamId}, got frame type ${type} on stream ${streamId}`);
    }
    switch (type) {
      case FrameType.DATA: this.#data(flags, streamId, payload); break;
      case FrameType.HEADERS: this.#headersFrame(flags, streamId, payload); break;
      case FrameType.PRIORITY:
        if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
        if (payload.length !== 5) this.#streamError(streamId, ErrorCode.FRAME_SIZE_ERROR);
        break;
      case FrameType.RST_STREAM: this.#rstStream(streamId, payload); break;
      case FrameType.SETTINGS: this.#settingsFrame(flags, streamId, payload); break;
      case FrameType.PUSH_PROMISE: throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE received (push is disabled)');
      case FrameType.PING: this.#ping(flags, streamId, payload); break;
      case FrameType.GOAWAY: this.#goaway(streamId, payload); break;
      case FrameType.WINDOW_UPDATE: this.#windowUpdate(streamId, payload); break;
      case FrameType.CONTINUATION: this.#continuationFrame(flags, streamId, payload); break;
      default: break; // unknown frame types are ignored (RFC 9113 §4.1)
    }
  }

  #data(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    const length = payload.length;
    this.#recvWindow -= length;
    if (this.#recvWindow < 0) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
    // The connection window is given back at once: streams' windows bound what is held.
    this.#consumeConnection(length);
    const body = unpad(payload, flags, 'DATA');
    if (body.length > 0 || (flags & Flag.END_STREAM) !== 0) this.#emptyData = 0;
    else if (++this.#emptyData > MAX_EMPTY_DATA_IN_A_ROW) {
      this.#counters.inboundEmptyFramesFlood.value++;
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `more than ${MAX_EMPTY_DATA_IN_A_ROW} empty DATA frames in a row`);
    }
    const stream = this.#streams.get(streamId);
    if (stream === undefined) {
      if (this.#isIdle(streamId)) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${streamId}`);
      // Frames the peer sent before it saw our RST_STREAM are dropped (their window counted); others are errors.
      if (!this.#recentlyReset.has(streamId)) this.#streamError(streamId, ErrorCode.STREAM_CLOSED);
      return;
    }
    if (stream.remoteEnded || !stream.headersReceived) {
      this.#streamError(streamId, stream.remoteEnded ? ErrorCode.STREAM_CLOSED : ErrorCode.PROTOCOL_ERROR);
      return;
    }
    stream.recvWindow -= length;
    if (stream.recvWindow < 0) {
      this.#streamError(streamId, ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    // Padding counts against the window but is nobody's to read: acknowledged now.
    stream.consumed += length - body.length;
    const end = (flags & Flag.END_STREAM) !== 0;
    stream.receivedLength += body.length;
    if (this.#lengthBroken(stream, end)) {
      this.#malformed(streamId);
      return;
    }
    if (end) stream.remoteEnded = true;
    if (stream.paused || stream.inbox !== undefined) {
      (stream.inbox ??= []).push(Buffer.from(body));
      if (end) stream.inboxEnded = true;
      return;
    }
    this.#deliver(stream, body, end);
  }


  /** RFC 9113 §8.1.1: DATA past the message's content-length, or the message ending (`ending`) short of it. */
  #lengthBroken(stream: { readonly expectedLength: number; readonly receivedLength: number }, ending: boolean): boolean {
    const expected = stream.expectedLength;
    return expected >= 0 && (stream.receivedLength > expected || (ending && stream.receivedLength !== expected));
  }

  /** A malformed message: the stream is reset with PROTOCOL_ERROR and counted. */
  #malformed(streamId: number): void {
    this.#counters.rxMessagingError.value++;
    this.#streamError(streamId, ErrorCode.PROTOCOL_ERROR);
  }
  #deliver(stream: H2Stream, body: Buffer, end: boolean): void {
    stream.consumed += body.length;
    if (body.length > 0 || end) stream.listener?.streamData(body, end);
    if (end) this.#maybeClosed(stream);
    else if (!stream.closed && stream.consumed >= this.#settings.initialWindowSize / 2) {
      writeWindowUpdate(this.#out, stream.id, stream.consumed);
      stream.recvWindow += stream.consumed;
      stream.consumed = 0;
      this.#schedule();
    }
  }

  /** Hands held DATA to a resumed stream's listener. */
  deliverInbox(stream: H2Stream): void {
    while (stream.inbox !== undefined && !stream.paused && !stream.closed) {
      const chunk = stream.inbox.shift();
      if (chunk === undefined) {
        stream.inbox = undefined;
        break;
      }
      const end = stream.inboxEnded && stream.inbox.length === 0;
      if (stream.inbox.length === 0) stream.inbox = undefined;
      this.#deliver(stream, chunk, end);
    }
  }

  #consumeConnection(n: number): void {
    this.#recvConsumed += n;
    if (this.#recvConsumed >= this.#settings.connectionWindowSize / 2) {
      writeWindowUpdate(this.#out, 0, this.#recvConsumed);
      this.#recvWindow += this.#recvConsumed;
      this.#recvConsumed = 0;
      this.#schedule();
    }
  }

  #headersFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'HEADERS on stream 0');
    let fragment = unpad(payload, flags, 'HEADERS');
    if ((flags & Flag.PRIORITY) !== 0) {
      if (fragment.length < 5) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'HEADERS too short for its priority fields');
      if ((fragment.readUInt32BE(0) & 0x7fffffff) === streamId) {
        this.#streamError(streamId, ErrorCode.PROTOCOL_ERROR); // a stream cannot depend on itself
      }
      fragment = fragment.subarray(5);
    }
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if ((flags & Flag.END_HEADERS) !== 0) {
      this.#headerBlock(streamId, endStream, fragment);
      return;
    }
    this.#continuation = { streamId, endStream, fragments: [Buffer.from(fragment)], size: fragment.length, frames: 0 };
  }

  #continuationFrame(flags: number, streamId: number, payload: Buffer): void {
    const c = this.#continuation;
    if (c === undefined) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `CONTINUATION without HEADERS on stream ${streamId}`);
    c.size += payload.length;
    if (c.size > MAX_HEADER_BLOCK) {
      this.#counters.headerOverflow.value++;
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `header block over ${MAX_HEADER_BLOCK} octets`);
    }
    if (++c.frames > MAX_CONTINUATIONS) {
      this.#counters.headerOverflow.value++;
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `header block of stream ${c.streamId} in more than ${MAX_CONTINUATIONS} CONTINUATION frames`);
    }
    if (payload.length > 0) c.fragments.push(Buffer.from(payload));
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.#continuation = undefined;
    this.#headerBlock(streamId, c.endStream, Buffer.concat(c.fragments));
  }

  #headerBlock(streamId: number, endStream: boolean, block: Buffer): void {
    const fields: string[] = [];
    let size: number;
    try {
      size = this.#decoder.decode(block, fields, this.#settings.maxHeaderListSize);
    } catch (err) {
      if (err instanceof HpackError) throw new ConnectionError(ErrorCode.COMPRESSION_ERROR, `header block of stream ${streamId}: ${err.message}`);
      throw err;
    }
    const stream = this.#streams.get(streamId);
    if (stream !== undefined) {
      if (stream.remoteEnded) {
        this.#streamError(streamId, ErrorCode.STREAM_CLOSED);
        return;
      }
      if (stream.headersReceived && !endStream && !isInformational(fields)) {
        this.#streamError(streamId, ErrorCode.PROTOCOL_ERROR); // trailers must end the stream
        return;
      }
      if (stream.headersReceived && this.#lengthBroken(stream, true)) {
        this.#malformed(streamId); // trailers end a message whose DATA fell short of its content-length
        return;
      }
      if (!isInformational(fields)) stream.headersReceived = true;
      if (endStream) stream.remoteEnded = true;
      stream.listener?.streamHeaders(fields, endStream);
      if (endStream) this.#maybeClosed(stream);
      return;
    }
    if (!this.#isIdle(streamId)) {
      // Trailers, say, for a stream this end reset: decoded (for HPACK), dropped. Otherwise the stream is long closed.
      if (this.#recentlyReset.has(streamId)) return;
      throw new ConnectionError(ErrorCode.STREAM_CLOSED, `HEADERS on closed stream ${streamId}`);
    }
    if (this.role === 'client' || this.#isLocal(streamId)) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `HEADERS opening stream ${streamId}, which the peer may not open`);
    this.lastPeerStream = streamId;
    if (this.#goingAway) {
      this.#streamError(streamId, ErrorCode.REFUSED_STREAM);
      return;
    }
    if (this.#streams.size >= this.#settings.maxConcurrentStreams) {
      this.#streamError(streamId, ErrorCode.REFUSED_STREAM);
      return;
    }
    const recv = this.#settingsAcked ? this.#settings.initialWindowSize : Math.max(this.#settings.initialWindowSize, DEFAULT_WINDOW);
    const stream2 = new H2Stream(this, streamId, recv, this.#peerInitialWindow);
    stream2.openedAt = performance.now();
    stream2.headersReceived = true;
    stream2.remoteEnded = endStream;
    this.#streams.set(streamId, stream2);
    this.#peerOpened++;
    this.#handler.stream(stream2, fields, endStream, size);
    if (endStream) this.#maybeClosed(stream2);
  }

  #rstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM payload is not 4 octets');
    this.#counters.rxReset.value++;
    const stream = this.#streams.get(streamId);
    if (stream === undefined) {
      if (this.#isIdle(streamId)) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${streamId}`);
      return;
    }
    const premature = !this.#isLocal(streamId) && !stream.localEnded && performance.now() - stream.openedAt < PREMATURE_RESET_MS;
    this.#closeStream(stream, payload.readUInt32BE(0), true);
    if (premature && ++this.#peerResets >= PREMATURE_RESET_MIN_STREAMS / 2 && this.#peerOpened >= PREMATURE_RESET_MIN_STREAMS && this.#peerResets * 2 >= this.#peerOpened) {
      this.#counters.prematureResets.value++;
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `the client reset ${this.#peerResets} of its ${this.#peerOpened} streams before their response completed`);
    }
  }

  #settingsFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS on stream ${streamId}`);
    if ((flags & Flag.ACK) !== 0) {
      if (payload.length !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      this.#settingsAcked = true;
      return;
    }
    if (payload.length % 6 !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `SETTINGS payload of ${payload.length} octets is not a multiple of 6`);
    if (payload.length / 6 > MAX_SETTINGS_ENTRIES) throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `SETTINGS with ${payload.length / 6} entries, more than ${MAX_SETTINGS_ENTRIES}`);
    let initialWindow = -1;
    for (let p = 0; p < payload.length; p += 6) {
      const id = payload.readUInt16BE(p);
      const value = payload.readUInt32BE(p + 2);
      switch (id) {
        case Setting.HEADER_TABLE_SIZE: this.#encoder.setPeerTableSize(value); break;
        case Setting.ENABLE_PUSH:
          if (value > 1 || (value === 1 && this.role === 'client')) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value}`);
          break;
        case Setting.MAX_CONCURRENT_STREAMS: this.#peerMaxStreams = value; break;
        case Setting.INITIAL_WINDOW_SIZE:
          if (value > MAX_WINDOW) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value} above 2^31-1`);
          initialWindow = value; // applied once, after the loop: the last one in the frame is what holds
          break;
        case Setting.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_FRAME_SIZE_LIMIT) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value} outside 16384…16777215`);
          this.#peerMaxFrameSize = value;
          break;
        case Setting.ENABLE_CONNECT_PROTOCOL:
          // Only checked: weft opens no extended CONNECT upstream (a tunnel to an HTTP/2 upstream is refused earlier).
          if (value > 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_CONNECT_PROTOCOL ${value}`);
          break;
        default: break; // MAX_HEADER_LIST_SIZE is advisory; unknown settings are ignored
      }
    }
    if (initialWindow >= 0 && initialWindow !== this.#peerInitialWindow) {
      const delta = initialWindow - this.#peerInitialWindow;
      this.#peerInitialWindow = initialWindow;
      for (const stream of this.#streams.values()) {
        stream.sendWindow += delta;
        if (stream.sendWindow > MAX_WINDOW) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, `stream ${stream.id}'s window above 2^31-1 after SETTINGS_INITIAL_WINDOW_SIZE`);
      }
      if (delta > 0) this.#sendQueued();
    }
    this.#controlFrame();
    writeSettingsAck(this.#out);
    this.#schedule();
    this.#handler.settings?.();
  }

  #ping(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `PING on stream ${streamId}`);
    if (payload.length !== 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'PING payload is not 8 octets');
    if ((flags & Flag.ACK) !== 0) {
      // An ACK of ours (an unknown one is not an error: RFC 9113 §6.7 only says it must not be answered).
      const id = payload.readUInt32BE(0) === 0 ? payload.readUInt32BE(4) : -1;
      const acked = this.#pings.get(id);
      if (acked !== undefined) {
        this.#pings.delete(id);
        acked(true);
      }
      return;
    }
    this.#controlFrame();
    writePing(this.#out, true, payload);
    this.#schedule();
  }

  #goaway(streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `GOAWAY on stream ${streamId}`);
    if (payload.length < 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'GOAWAY shorter than 8 octets');
    const last = payload.readUInt32BE(0) & 0x7fffffff;
    const code = payload.readUInt32BE(4);
    this.peerGoneAway = true;
    for (const stream of [...this.#streams.values()]) {
      if (this.#isLocal(stream.id) && stream.id > last) this.#closeStream(stream, ErrorCode.REFUSED_STREAM, true);
    }
    this.#handler.goaway(code, last);
    if (code !== ErrorCode.NO_ERROR) this.#close(new Error(`peer sent GOAWAY ${errorName(code)}: ${payload.toString('latin1', 8, Math.min(payload.length, 264))}`), code);
    else this.#maybeFinished();
  }

  #windowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE payload is not 4 octets');
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0 on the connection');
      this.#sendWindow += increment;
      if (this.#sendWindow > MAX_WINDOW) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'connection window above 2^31-1');
      this.#sendQueued();
      return;
    }
    const stream = this.#streams.get(streamId);
    if (stream === undefined) {
      if (this.#isIdle(streamId)) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${streamId}`);
      return;
    }
    if (increment === 0) {
      this.#streamError(streamId, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) {
      this.#streamError(streamId, ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    if (stream.queue !== undefined || stream.endQueued) this.#sendQueued();
  }

  // ---- output ----

  /** Client role: opens a stream with a request head. Throws when `canOpen` is false. */
  request(fields: readonly string[], endStream: boolean, listener: StreamListener): H2Stream {
    if (!this.canOpen) throw new Error('no new stream can be opened on this HTTP/2 connection');
    const id = this.#lastLocalStream === 0 ? 1 : this.#lastLocalStream + 2;
    this.#lastLocalStream = id;
    const recv = this.#settingsAcked ? this.#settings.initialWindowSize : Math.max(this.#settings.initialWindowSize, DEFAULT_WINDOW);
    const stream = new H2Stream(this, id, recv, this.#peerInitialWindow);
    stream.listener = listener;
    this.#streams.set(id, stream);
    this.sendHeaders(stream, fields, endStream);
    return stream;
  }

  sendHeaders(stream: H2Stream, fields: readonly string[], endStream: boolean): void {
    if (stream.closed || stream.localEnded) return;
    const w = blockWriter;
    w.pos = 0;
    let failed: HpackEncodeError | undefined;
    this.#encoder.begin(w);
    for (let i = 0; i + 1 < fields.length; i += 2) {
      try {
        this.#encoder.field(fields[i]!, fields[i + 1]!, w);
      } catch (err) {
        if (!(err instanceof HpackEncodeError)) throw err;
        // What was encoded has changed the table: it is sent, so the peer's decoder stays in step, and the stream is reset.
        failed = err;
        break;
      }
    }
    this.#writeBlock(stream.id, failed === undefined && endStream, w);
    if (failed !== undefined) {
      this.resetStream(stream, ErrorCode.INTERNAL_ERROR, false);
      return;
    }
    if (endStream) this.#endedLocally(stream);
  }

  #writeBlock(streamId: number, endStream: boolean, block: ByteWriter): void {
    const out = this.#out;
    const max = this.#peerMaxFrameSize;
    let length = block.pos;
    let offset = 0;
    let type: number = FrameType.HEADERS;
    let flags = endStream ? Flag.END_STREAM : 0;
    for (;;) {
      const n = Math.min(length, max);
      writeFrameHeader(out, n, type, flags | (n === length ? Flag.END_HEADERS : 0), streamId);
      out.ensure(n);
      block.buf.copy(out.buf, out.pos, offset, offset + n);
      out.pos += n;
      offset += n;
      length -= n;
      if (length === 0) break;
      type = FrameType.CONTINUATION;
      flags = 0;
    }
    this.#schedule();
  }

  sendData(stream: H2Stream, chunk: Buffer): boolean {
    if (stream.closed || stream.localEnded || stream.endQueued) return true;
    if (stream.queue !== undefined) {
      stream.queue.push(chunk);
      stream.wantsDrain = true;
      return false;
    }
    const sent = this.#dataFrames(stream, chunk, 0);
    if (sent < chunk.length) {
      stream.queue = [chunk];
      stream.queueOffset = sent;
      stream.wantsDrain = true;
      this.#waiting.add(stream);
      return false;
    }
    if (this.#blocked) {
      stream.wantsDrain = true;
      this.#waiting.add(stream);
      return false;
    }
    return true;
  }

  /** Frames as much of `chunk` from `offset` as the windows allow; returns the new offset. */
  #dataFrames(stream: H2Stream, chunk: Buffer, offset: number): number {
    while (offset < chunk.length) {
      const room = Math.min(stream.sendWindow, this.#sendWindow, this.#peerMaxFrameSize, chunk.length - offset);
      if (room <= 0) break;
      this.#dataFrame(stream.id, chunk, offset, room, false);
      stream.sendWindow -= room;
      this.#sendWindow -= room;
      offset += room;
    }
    return offset;
  }

  #dataFrame(streamId: number, chunk: Buffer | undefined, offset: number, length: number, endStream: boolean): void {
    const out = this.#out;
    writeFrameHeader(out, length, FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId);
    if (length === 0 || chunk === undefined) {
      this.#schedule();
      return;
    }
    if (length < COPY_LIMIT) {
      out.ensure(length);
      chunk.copy(out.buf, out.pos, offset, offset + length);
      out.pos += length;
    } else {
      this.#chunks.push(out.take());
      out.pos = 0;
      this.#chunks.push(offset === 0 && length === chunk.length ? chunk : chunk.subarray(offset, offset + length));
    }
    this.#schedule();
  }

  endStream(stream: H2Stream, trailers?: readonly string[]): void {
    if (stream.closed || stream.localEnded || stream.endQueued) return;
    if (stream.queue !== undefined) {
      stream.endQueued = true;
      stream.trailersQueued = trailers;
      return;
    }
    this.#finishLocal(stream, trailers);
  }

  #finishLocal(stream: H2Stream, trailers: readonly string[] | undefined): void {
    if (trailers !== undefined && trailers.length > 0) {
      this.sendHeaders(stream, trailers, true);
      return;
    }
    this.#dataFrame(stream.id, undefined, 0, 0, true);
    this.#endedLocally(stream);
  }

  /**
   * This end sent END_STREAM: the stream closes if the peer's side ended too. A response complete before
   * its request may ask the client to stop sending (RST_STREAM NO_ERROR after it, RFC 9113 §8.1).
   */
  #endedLocally(stream: H2Stream): void {
    stream.localEnded = true;
    if (stream.remoteEnded) this.#closeStream(stream, ErrorCode.NO_ERROR, false);
    else if (stream.stopPeerOnEnd) this.resetStream(stream, ErrorCode.NO_ERROR, false);
  }

  /** Sends what queued streams' windows now admit, and tells waiting writers when they may go on. */
  #sendQueued(): void {
    for (const stream of this.#waiting) {
      if (stream.closed) {
        this.#waiting.delete(stream);
        continue;
      }
      const queue = stream.queue;
      while (queue !== undefined && queue.length > 0) {
        const head = queue[0]!;
        stream.queueOffset = this.#dataFrames(stream, head, stream.queueOffset);
        if (stream.queueOffset < head.length) break;
        queue.shift();
        stream.queueOffset = 0;
      }
      if (queue !== undefined && queue.length > 0) continue;
      stream.queue = undefined;
      if (stream.endQueued) {
        stream.endQueued = false;
        this.#finishLocal(stream, stream.trailersQueued);
        stream.trailersQueued = undefined;
      }
      if (this.#blocked) continue;
      this.#waiting.delete(stream);
      if (stream.wantsDrain && !stream.closed) {
        stream.wantsDrain = false;
        stream.listener?.streamDrain();
      }
    }
  }

  /** Counts an answer to a control frame; too many while the peer does not read is a flood. */
  #controlFrame(): void {
    if (this.#blocked && ++this.#controlWhileBlocked > MAX_CONTROL_WHILE_BLOCKED) {
      this.#counters.outboundControlFlood.value++;
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `more than ${MAX_CONTROL_WHILE_BLOCKED} control frames to answer while the peer reads nothing`);
    }
  }

  #drained(): void {
    this.#blocked = false;
    this.#controlWhileBlocked = 0;
    if (this.#waiting.size > 0) this.#sendQueued();
  }

  resetStream(stream: H2Stream, code: number, remote: boolean): void {
    if (stream.closed) return;
    writeRstStream(this.#out, stream.id, code);
    this.#counters.txReset.value++;
    this.#recentlyReset.add(stream.id);
    if (this.#recentlyReset.size > RECENT_RESETS) this.#recentlyReset.delete(this.#recentlyReset.values().next().value!);
    this.#schedule();
    this.#closeStream(stream, code, remote);
  }

  /** A stream error on a stream that may not exist any more. */
  #streamError(streamId: number, code: number): void {
    // An answer to the peer's frame, as an acknowledgement is: a peer that sends faults without reading
    // the resets is a flood (a reset the application asks for is not counted, and never throws).
    this.#controlFrame();
    const stream = this.#streams.get(streamId);
    if (stream !== undefined) {
      this.resetStream(stream, code, true);
      return;
    }
    writeRstStream(this.#out, streamId, code);
    this.#counters.txReset.value++;
    this.#schedule();
  }

  #maybeClosed(stream: H2Stream): void {
    if (stream.localEnded && stream.remoteEnded && !stream.closed) this.#closeStream(stream, ErrorCode.NO_ERROR, false);
  }

  #closeStream(stream: H2Stream, code: number, remote: boolean): void {
    if (stream.closed) return;
    stream.closed = true;
    stream.queue = undefined;
    stream.inbox = undefined;
    this.#waiting.delete(stream);
    this.#streams.delete(stream.id);
    if (this.#streams.size === 0) this.idleSince = performance.now();
    const listener = stream.listener;
    stream.listener = undefined;
    listener?.streamClose(code, remote);
    this.#maybeFinished();
  }

  /**
   * Sends a PING (a liveness check, as gRPC's keepalive): `acked` is called with true when the peer's ACK
   * arrives, or with false when the session ends first.
   */
  ping(acked: (acked: boolean) => void): void {
    if (this.closed) {
      acked(false);
      return;
    }
    const id = ++this.#pingSeq >>> 0;
    this.#pings.set(id, acked);
    const opaque = Buffer.alloc(8);
    opaque.writeUInt32BE(id, 4);
    writePing(this.#out, false, opaque);
    this.#schedule();
  }

  /** Graceful shutdown: GOAWAY, no new streams, and the connection closes when the open ones are done. */
  goaway(code: number = ErrorCode.NO_ERROR, reason = ''): void {
    if (this.closed || this.#goingAway) return;
    this.#goingAway = true;
    writeGoaway(this.#out, this.lastPeerStream, code, reason);
    this.#counters.goawaySent.value++;
    this.#schedule();
    this.#maybeFinished();
  }

  #maybeFinished(): void {
    if (this.closed || this.#streams.size > 0) return;
    if (this.#goingAway || (this.peerGoneAway && this.role === 'client')) this.#close(undefined, ErrorCode.NO_ERROR);
  }

  /** Ends the session at once: open streams are reset; with `error`, a GOAWAY names it first. */
  destroy(error?: ConnectionError): void {
    if (this.closed) return;
    if (error !== undefined) this.#fail(error);
    else this.#close(undefined, ErrorCode.CANCEL);
  }

  #fail(err: unknown): void {
    if (this.closed) return;
    const error = err instanceof ConnectionError ? err : new ConnectionError(ErrorCode.INTERNAL_ERROR, err instanceof Error ? err.message : String(err));
    writeGoaway(this.#out, this.lastPeerStream, error.code, error.message);
    this.#counters.goawaySent.value++;
    this.#close(error, error.code);
  }

  #close(error: Error | undefined, code: number): void {
    this.closed = true;
    for (const stream of [...this.#streams.values()]) this.#closeStream(stream, code === ErrorCode.NO_ERROR ? ErrorCode.CANCEL : code, true);
    for (const acked of this.#pings.values()) acked(false);
    this.#pings.clear();
    this.flush();
    if (!this.socket.destroyed) this.socket.end();
    this.#handler.close(error);
  }

  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(flushLater, this);
  }

  /** Writes the frames made so far (at the end of the tick, or now). */
  flush(): void {
    this.#flushScheduled = false;
    const out = this.#out;
    if (out.pos > 0) {
      this.#chunks.push(out.take());
      out.pos = 0;
    }
    const chunks = this.#chunks;
    if (chunks.length === 0) return;
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) {
      chunks.length = 0;
      return;
    }
    let ok: boolean;
    if (chunks.length === 1) ok = socket.write(chunks[0]!);
    else {
      socket.cork();
      ok = true;
      for (const c of chunks) ok = socket.write(c);
      socket.uncork();
    }
    chunks.length = 0;
    if (!ok) this.#blocked = true;
  }

  #isLocal(streamId: number): boolean {
    return ((streamId & 1) === 1) === (this.role === 'client');
  }

  /** A stream id in the idle state: never opened by either side (RFC 9113 §5.1). */
  #isIdle(streamId: number): boolean {
    return this.#isLocal(streamId) ? streamId > this.#lastLocalStream : streamId > this.lastPeerStream;
  }
}

/** A frame's payload without its padding (RFC 9113 §6.1). */
function unpad(payload: Buffer, flags: number, what: string): Buffer {
  if ((flags & Flag.PADDED) === 0) return payload;
  if (payload.length < 1) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `padded ${what} frame without a pad length`);
  const pad = payload[0]!;
  if (pad >= payload.length) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `${what} padding of ${pad} octets fills the whole frame`);
  return payload.subarray(1, payload.length - pad);
}

/** A 1xx response head (`:status` first, as `fields.ts` requires of a response). */
function isInformational(fields: readonly string[]): boolean {
  return fields[0] === ':status' && fields[1]!.length === 3 && fields[1]!.charCodeAt(0) === 0x31;
}
