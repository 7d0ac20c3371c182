/**
 * An incremental, strict HTTP/1.1 response parser for weft's upstream connections (RFC 9112). It reads
 * what an upstream sends on one connection, one response at a time, and reports the head, the body
 * bytes (as views of the buffers it is given, never copied) and the trailers to a sink. The field and
 * body grammar, and its strictness, are `MessageParser`'s. Content-Length with Transfer-Encoding is
 * refused (Envoy's codec does the same unless `allow_chunked_length`). Limits on the head follow
 * Envoy's defaults for upstream responses: 60 KiB and 100 fields (`max_response_headers_kb`,
 * `max_response_headers_count`).
 *
 * Framing (RFC 9112 §6.3): 1xx other than 101 is skipped; the answer to HEAD and 204/304 have no body;
 * a chunked Transfer-Encoding is read as chunks; any other Transfer-Encoding, or neither header, runs
 * to the end of the connection; otherwise Content-Length bytes.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderMap } from '../../http/headers.ts';
import { Framing, HttpParseError, MessageParser, NO_TRAILERS, State, type ParserLimits } from './message-parser.ts';
import { UPSTREAM_PROTOCOL_ERROR } from '../../core/error-codes.ts';

export { HttpParseError, type ParserLimits } from './message-parser.ts';

/**
 * Receives one response. Contract: `onHead` once (a 101 ends the response there), then `onBody` zero or
 * more times, then `onEnd` once. `onHead` and `onBody` return false to stop the parser where it is
 * (pause or abort): `execute` then returns the offset it reached, and the caller resumes from there.
 */
export interface ResponseSink {
  onHead(status: number, headers: IncomingHttpHeaders, statusText: string): boolean;
  onBody(chunk: Buffer): boolean;
  onEnd(trailers: IncomingHttpHeaders): void;
}

export const DEFAULT_LIMITS: ParserLimits = { maxHeadBytes: 60 * 1024, maxFields: 100 };

const CODE = UPSTREAM_PROTOCOL_ERROR;

export class ResponseParser extends MessageParser {
  #sink: ResponseSink | undefined;
  #headRequest = false;
  #upgradeRequested = false;
  /** Whether the connection may carry another request once this response ends. */
  keepAlive = false;
  /**
   * How long the upstream says it keeps an idle connection (`Keep-Alive: timeout=N`, seconds; -1 when
   * it does not say). Node's HTTP server says 5 s on every response.
   */
  idleHintS = -1;

  constructor(limits: ParserLimits = DEFAULT_LIMITS) {
    super(limits, 'upstream', CODE, 'a response head');
  }

  /** Starts reading the response to a request just written (`head`: it was a HEAD request). */
  expect(sink: ResponseSink, head: boolean, upgrade: boolean): void {
    this.#sink = sink;
    this.#headRequest = head;
    this.#upgradeRequested = upgrade;
    this.keepAlive = false;
    this.beginHead();
  }

  /** Drops the response being read (its request was abandoned); the connection must not be reused. */
  reset(): void {
    this.#sink = undefined;
    this.clear();
  }

  /** The connection closed: ends a body that runs until close; any other unfinished response is an error. */
  finish(): void {
    if (this.readsUntilClose) {
      this.finishMessage(NO_TRAILERS);
      return;
    }
    if (this.busy && !this.upgraded) throw new HttpParseError(this.state === State.Head ? 'upstream closed the connection before a complete response head' : 'upstream closed the connection before the response body was complete', CODE);
  }

  protected override onHeadText(head: string): void {
    const lineEnd = head.indexOf('\r\n');
    // "HTTP/1.x SSS[ reason]"
    if (lineEnd < 12 || !head.startsWith('HTTP/1.') || (head.charCodeAt(7) !== 0x31 && head.charCodeAt(7) !== 0x30) || head.charCodeAt(8) !== 0x20) {
      throw this.fail(`a malformed status line ${JSON.stringify(head.slice(0, Math.min(lineEnd < 0 ? 40 : lineEnd, 40)))}`);
    }
    const d0 = head.charCodeAt(9) - 0x30;
    const d1 = head.charCodeAt(10) - 0x30;
    const d2 = head.charCodeAt(11) - 0x30;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || (lineEnd > 12 && head.charCodeAt(12) !== 0x20)) {
      throw this.fail(`a malformed status line ${JSON.stringify(head.slice(0, Math.min(lineEnd, 40)))}`);
    }
    // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ): a CR or LF in it would mean the status line did
    // not end where the head's first CRLF is (a bare LF or CR line end), so what follows is not read as fields.
    for (let i = 13; i < lineEnd; i++) {
      const c = head.charCodeAt(i);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw this.fail(`a control character in the status line ${JSON.stringify(head.slice(0, Math.min(lineEnd, 40)))}`);
    }
    const status = d0 * 100 + d1 * 10 + d2;
    const http10 = head.charCodeAt(7) === 0x30;
    const framing = new Framing();
    const headers = this.fields(head, lineEnd + 2, framing).headers as IncomingHttpHeaders;
    const statusText = lineEnd > 13 ? head.slice(13, lineEnd) : '';
    if (status < 200) {
      if (status === 101) {
        if (!this.#upgradeRequested) throw this.fail('a 101 Switching Protocols to a request that asked for no upgrade');
        this.state = State.Upgraded;
        this.keepAlive = false;
        this.stopped = true;
        this.#sink!.onHead(status, headers, statusText);
        return;
      }
      this.beginHead(); // 100 Continue, 102, 103: interim, the final response follows.
      return;
    }
    this.keepAlive = http10 ? framing.keepAlive && !framing.close : !framing.close;
    this.idleHintS = framing.idleHintS;
    const bodyless = this.#headRequest || status === 204 || status === 304;
    // Refused even where no body follows (HEAD, 204, 304): the message is malformed (RFC 9112 §6.2), as Node's parser holds.
    if (framing.transferEncoding && framing.contentLength >= 0) throw this.fail('both content-length and transfer-encoding');
    const go = this.#sink!.onHead(status, headers, statusText);
    if (this.#sink === undefined) {
      this.stopped = true; // the sink abandoned the response (reset())
      return;
    }
    if (bodyless) this.frameLength(0);
    else if (framing.transferEncoding) {
      if (framing.chunked) this.frameChunked();
      else this.#untilClose();
    } else if (framing.contentLength >= 0) this.frameLength(framing.contentLength);
    else this.#untilClose();
    if (!go) this.stopped = true;
  }

  #untilClose(): void {
    this.frameUntilClose();
    this.keepAlive = false;
  }

  protected override onBodyBytes(chunk: Buffer): boolean {
    return this.#sink!.onBody(chunk);
  }

  protected override onMessageEnd(trailers: HeaderMap): void {
    const sink = this.#sink;
    this.#sink = undefined;
    sink?.onEnd(trailers as IncomingHttpHeaders); // no sink: the response was abandoned from inside a callback
  }
}
