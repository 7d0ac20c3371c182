/**
 * One HTTP/2 stream of an `H2Session` (RFC 9113 §5.1): its two directions, its flow-control windows, and
 * what waits for them. The session does the framing; a stream queues body bytes the windows do not
 * admit yet, holds received DATA while its reader is paused (unacknowledged, so the peer's window shrinks:
 * that is the backpressure), and tells its listener everything once.
 */
import type { H2Session } from './session.ts';

/** What a stream tells its owner (the HTTP layer). */
export interface StreamListener {
  /** A header block: request or response head (1xx heads before the final one), or trailers (`endStream`). */
  streamHeaders(fields: string[], endStream: boolean): void;
  streamData(chunk: Buffer, endStream: boolean): void;
  /** Room to send again, after `write` returned false. */
  streamDrain(): void;
  /**
   * The stream is over, once: both directions ended (`code` NO_ERROR), or it was reset, by the peer when
   * `remote` (or the connection went away), else by this end.
   */
  streamClose(code: number, remote: boolean): void;
}

export class H2Stream {
  readonly id: number;
  listener: StreamListener | undefined;
  /** What the peer may still send before a WINDOW_UPDATE. */
  recvWindow: number;
  /** What this end may still send. */
  sendWindow: number;
  /** Received bytes handed to the reader and not yet acknowledged with a WINDOW_UPDATE. */
  consumed = 0;
  localEnded = false;
  remoteEnded = false;
  /** Response (client role) or request (server role) head received: later header blocks are trailers or 1xx. */
  headersReceived = false;
  closed = false;
  /** Server role: once the response is complete, reset the stream (NO_ERROR) if the request is not (not for tunnels). */
  stopPeerOnEnd = false;
  /** When a peer-opened stream started (`performance.now()`): the rapid-reset check, the HCM's request_timeout. */
  openedAt = 0;
  /** `content-length` of what the peer sends, checked against its DATA at END_STREAM; -1 when not declared. */
  expectedLength = -1;
  receivedLength = 0;
  /** Body bytes waiting for window (the first one partly sent from `queueOffset`). */
  queue: Buffer[] | undefined;
  queueOffset = 0;
  /** After the queue: end the stream, with these trailers when set. */
  endQueued = false;
  trailersQueued: readonly string[] | undefined;
  /** `write` returned false: call `drain` when there is room. */
  wantsDrain = false;
  paused = false;
  /** DATA received while paused (an empty buffer for END_STREAM without data). */
  inbox: Buffer[] | undefined;
  inboxEnded = false;
  readonly session: H2Session;

  constructor(session: H2Session, id: number, recvWindow: number, sendWindow: number) {
    this.session = session;
    this.id = id;
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
  }

  /** Sends a header block: the head, or 1xx informational heads before it. */
  sendHeaders(fields: readonly string[], endStream: boolean): void {
    this.session.sendHeaders(this, fields, endStream);
  }

  /** Sends body bytes; false when they wait for window or the connection is backed up (`streamDrain` follows). */
  write(chunk: Buffer): boolean {
    return this.session.sendData(this, chunk);
  }

  /** Ends this direction, with trailers when given (after whatever body is still queued). */
  end(trailers?: readonly string[]): void {
    this.session.endStream(this, trailers);
  }

  /** Resets the stream (RST_STREAM with `code`); the listener hears `streamClose(code, false)`. */
  reset(code: number): void {
    this.session.resetStream(this, code, false);
  }

  /** Stops handing DATA to the listener: it is held, unacknowledged, until `resume`. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.session.deliverInbox(this);
  }
}
