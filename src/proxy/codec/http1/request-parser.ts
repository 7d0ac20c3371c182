/**
 * An incremental, strict HTTP/1.1 request parser for weft's downstream connections (RFC 9112), one
 * request at a time: the connection asks for the next request only when the previous response is done,
 * which keeps pipelined responses in order. Field and body grammar are `MessageParser`'s.
 *
 * What a server must refuse, and does here (400 unless said otherwise):
 * - a request line that is not `method SP target SP HTTP/1.x` (method a token; target without spaces or
 *   control characters);
 * - Content-Length together with Transfer-Encoding (request smuggling), Transfer-Encoding in HTTP/1.0,
 *   and codings other than `chunked` (501, as Envoy);
 * - an HTTP/1.1 request with no Host, or more than one (RFC 9112 §3.2), except CONNECT and absolute-form,
 *   and a Host that is no valid authority (`codec/authority.ts`: no spaces, no userinfo);
 * - a CONNECT target that is not authority-form (`host:port`), and an absolute-form target whose host
 *   is invalid or whose port is not 1 to 65535;
 * - heads over the configured size (431).
 * Requests have no close-delimited bodies: neither header means no body. CONNECT and upgrade requests
 * (`Connection: upgrade` + `Upgrade`, except h2c) end at their head; what follows belongs to the tunnel.
 */
import type { HeaderMap } from '../../http/headers.ts';
import { Framing, MessageParser, NO_TRAILERS, State, type ParserLimits } from './message-parser.ts';
import { isConnectableAuthority, isValidAuthority, splitAbsoluteForm, type AbsoluteForm } from '../authority.ts';
import { TOKEN } from '../token.ts';

export { HttpParseError } from './message-parser.ts';

/** Receives requests: `onRequest` for each head (read it from the parser), then body and end. */
export interface RequestSink {
  /** False stops the parser after the head. */
  onRequest(parser: RequestParser): boolean;
  onBody(chunk: Buffer): boolean;
  onEnd(trailers: HeaderMap): void;
}

const CODE = 'WEFT_DOWNSTREAM_PROTOCOL_ERROR';

/**
 * HTTP/1.0 as Envoy's `http_protocol_options` lets it in: `accept` false refuses such requests with 426
 * (Envoy's default); `defaultHost` is the Host of one that has none.
 */
export interface Http10Options {
  readonly accept: boolean;
  readonly defaultHost?: string;
}

/** What a listener's `http_protocol_options` let through. */
export interface RequestOptions {
  readonly http10: Http10Options;
  /**
   * `allow_absolute_url`: a target that is neither a path nor `*` (for OPTIONS) must be an http(s) URL,
   * else 400, as Envoy's codec reads it. Off, such a target is passed on as it came.
   */
  readonly absoluteUrls: boolean;
}

export class RequestParser extends MessageParser {
  readonly #sink: RequestSink;
  readonly #options: RequestOptions;
  /** The last Host value found valid on this connection. */
  #validHost = '';
  /** The last request's head. */
  method = '';
  target = '';
  /** The target split, when it is an http(s) absolute-form one (a forward-proxy request). */
  absolute: AbsoluteForm | undefined;
  http10 = false;
  headers: HeaderMap = NO_TRAILERS;
  fieldCount = 0;
  /** Whether the client lets the connection carry another request after this one. */
  keepAlive = false;
  /** Lowercase upgrade token of an upgrade request, else undefined. */
  upgrade: string | undefined;
  connect = false;
  expectContinue = false;
  hasBody = false;

  constructor(sink: RequestSink, limits: ParserLimits, options: RequestOptions) {
    super(limits, 'client', CODE, 'a request head');
    this.#sink = sink;
    this.#options = options;
    this.beginHead();
  }

  /** Starts reading the next request (after the previous response is done). */
  next(): void {
    this.beginHead();
  }

  protected override onHeadText(text: string): void {
    // Empty lines before a request line are ignored (RFC 9112 §2.2).
    let start = 0;
    while (text.charCodeAt(start) === 0x0d && text.charCodeAt(start + 1) === 0x0a) start += 2;
    const lineEnd = text.indexOf('\r\n', start);
    if (lineEnd < 0) {
      this.beginHead(); // only empty lines so far: the request line is still to come
      return;
    }
    const sp1 = text.indexOf(' ', start);
    const sp2 = sp1 < 0 ? -1 : text.indexOf(' ', sp1 + 1);
    if (sp1 <= start || sp2 < 0 || sp2 > lineEnd || sp2 === sp1 + 1 || lineEnd - sp2 !== 9 || !text.startsWith('HTTP/1.', sp2 + 1)) {
      throw this.fail(`a malformed request line ${JSON.stringify(text.slice(start, Math.min(lineEnd, start + 60)))}`);
    }
    const minor = text.charCodeAt(lineEnd - 1);
    if (minor !== 0x31 && minor !== 0x30) throw this.fail(`an unsupported HTTP version ${JSON.stringify(text.slice(sp2 + 1, lineEnd))}`, 505);
    for (let i = start; i < sp1; i++) {
      const c = text.charCodeAt(i);
      if (c >= 128 || TOKEN[c] === 0) throw this.fail(`an invalid method ${JSON.stringify(text.slice(start, sp1))}`);
    }
    for (let i = sp1 + 1; i < sp2; i++) {
      const c = text.charCodeAt(i);
      if (c <= 0x20 || c === 0x7f) throw this.fail('a control character or space in the request target');
    }
    const method = text.slice(start, sp1);
    const target = text.slice(sp1 + 1, sp2);
    const http10 = minor === 0x30;
    if (http10 && !this.#options.http10.accept) throw this.fail('an HTTP/1.0 request, which this listener does not accept (http_protocol_options.accept_http_10)', 426);
    const framing = new Framing();
    const { headers, count } = this.fields(text, lineEnd + 2, framing);
    if (http10 && framing.hosts === 0 && this.#options.http10.defaultHost !== undefined) {
      headers['host'] = this.#options.http10.defaultHost;
      framing.hosts = 1;
    }
    const connect = method === 'CONNECT';
    if (!http10 && framing.hosts !== 1 && !(framing.hosts === 0 && (connect || target.charCodeAt(0) !== 0x2f))) {
      throw this.fail(framing.hosts === 0 ? 'an HTTP/1.1 request without a host header' : 'more than one host header');
    }
    if (framing.hosts > 0) this.#checkHost(headers['host']);
    if (connect) {
      if (!isConnectableAuthority(target, true)) throw this.fail(`a CONNECT target that is not host:port with a port of 1 to 65535 ${JSON.stringify(target.slice(0, 100))}`);
    }
    const absolute = connect || target.charCodeAt(0) === 0x2f ? undefined : splitAbsoluteForm(target);
    if (absolute === undefined && !connect && this.#options.absoluteUrls && target.charCodeAt(0) !== 0x2f && !(target === '*' && method === 'OPTIONS')) {
      throw this.fail(`a request target that is neither a path nor an http(s) URL ${JSON.stringify(target.slice(0, 100))}`);
    }
    if (absolute !== undefined && !isConnectableAuthority(absolute.authority, false)) throw this.fail(`an invalid host or port in the request target ${JSON.stringify(target.slice(0, 100))}`);
    let length = 0;
    let chunked = false;
    if (framing.transferEncoding) {
      if (framing.contentLength >= 0) throw this.fail('both content-length and transfer-encoding');
      if (http10) throw this.fail('transfer-encoding in an HTTP/1.0 request');
      if (!framing.onlyChunked) throw this.fail(`an unsupported transfer-encoding ${JSON.stringify(headers['transfer-encoding'])}`, 501);
      chunked = true;
    } else if (framing.contentLength > 0) length = framing.contentLength;
    let upgrade: string | undefined;
    if (!connect && framing.upgradeToken && !http10) {
      const u = headers['upgrade'];
      const token = (Array.isArray(u) ? u[0] : u)?.toLowerCase();
      if (token !== undefined && token !== '' && token !== 'h2c') upgrade = token;
    }
    this.method = method;
    this.target = target;
    this.absolute = absolute;
    this.http10 = http10;
    this.headers = headers;
    this.fieldCount = count;
    this.keepAlive = http10 ? framing.keepAlive && !framing.close : !framing.close;
    this.upgrade = upgrade;
    this.connect = connect;
    this.expectContinue = framing.expectContinue && !http10;
    const tunnel = connect || upgrade !== undefined;
    this.hasBody = !tunnel && (chunked || length > 0);
    const go = this.#sink.onRequest(this);
    if (tunnel) {
      this.state = State.Upgraded;
      this.stopped = true;
      return;
    }
    if (chunked) this.frameChunked();
    else this.frameLength(length);
    if (!go) this.stopped = true;
  }

  /** RFC 9112 §3.2: a Host that is not `uri-host [":" port]` (no userinfo) must be answered 400. */
  #checkHost(host: string | string[] | undefined): void {
    if (typeof host === 'string') {
      // A keep-alive client sends the same Host on every request: checked once per connection.
      if (host === this.#validHost) return;
      if (!isValidAuthority(host)) throw this.fail(`an invalid host header ${JSON.stringify(host.slice(0, 100))}`);
      this.#validHost = host;
    } else if (host !== undefined) {
      for (const h of host) this.#checkHost(h);
    }
  }

  protected override onBodyBytes(chunk: Buffer): boolean {
    return this.#sink.onBody(chunk);
  }

  protected override onMessageEnd(trailers: HeaderMap): void {
    this.#sink.onEnd(trailers);
  }
}
