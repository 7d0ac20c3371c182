/**
 * The head of an upstream HTTP/1.1 request (RFC 9112 §3), written from undici's dispatch options so the
 * router can stay on the dispatcher API: request line, fields, and the framing the body needs. Every
 * name and value is checked before it goes on the wire: a CR, LF or NUL from a route's header rules or
 * a rewrite must not split the request in two.
 */
import type { Dispatcher } from 'undici';
import { isToken } from '../../codec/token.ts';
import { INVALID_UPSTREAM_REQUEST } from '../../core/error-codes.ts';

/** A request that cannot be written as given (the message names what and where). */
export class InvalidRequestError extends Error {
  readonly code = INVALID_UPSTREAM_REQUEST;
}

export interface RequestHead {
  /** Request line and fields, ending with the blank line. */
  readonly text: string;
  /** The body goes out in chunks (a stream of unknown length). */
  readonly chunked: boolean;
  /** Declared body length, -1 when chunked or bodiless. */
  readonly contentLength: number;
}

/** Characters never allowed in a field value or request target: NUL, CR, LF. */
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;
/** Request targets: visible ASCII and obs-text, no spaces or controls. */
export const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
/** Methods whose requests carry content: without a body they get `content-length: 0` (RFC 9110 §8.6). */
const EXPECTS_BODY = new Set(['POST', 'PUT', 'PATCH']);

type Body = Dispatcher.DispatchOptions['body'];

export function checkField(name: string, value: string): void {
  if (!isToken(name)) throw new InvalidRequestError(`invalid header name ${JSON.stringify(name)} in upstream request`);
  if (FORBIDDEN_IN_VALUE.test(value)) throw new InvalidRequestError(`invalid character (CR, LF or NUL) in value of header ${JSON.stringify(name)} in upstream request`);
}

/** Calls `field` for each name and value in undici's header forms: a flat `[name, value, …]` list (what the router sends) or an object. */
export function forEachField(headers: Dispatcher.DispatchOptions['headers'], field: (name: string, value: string) => void): void {
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) field(String(headers[i]), String(headers[i + 1]));
  } else if (headers !== null && headers !== undefined) {
    for (const [name, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) field(name, v);
      else field(name, String(value));
    }
  }
}

/** Body length when known up front (string, bytes), else -1 (a stream) or 0 (none). */
export function fixedBodyLength(body: Body): number {
  if (body === null || body === undefined) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return -1;
}

/**
 * Builds the head. `headers` in undici's forms: a flat `[name, value, …]` list (what the router sends)
 * or an object. `defaultHost` is used when no Host field is given. Throws `InvalidRequestError`.
 */
export function requestHead(options: Dispatcher.DispatchOptions, defaultHost: string): RequestHead {
  const method = options.method;
  const path = options.path;
  if (!isToken(method)) throw new InvalidRequestError(`invalid method ${JSON.stringify(method)} in upstream request`);
  if (!TARGET.test(path)) throw new InvalidRequestError(`invalid request target ${JSON.stringify(path)} in upstream request`);
  let text = `${method} ${path} HTTP/1.1\r\n`;
  let host = false;
  let declared = -1;
  let transferEncoding = false;
  const add = (name: string, value: string): void => {
    checkField(name, value);
    // Names from the router are lowercase already; other callers may use any case.
    const lower = name.length === 4 || name.length === 14 || name.length === 17 ? name.toLowerCase() : name;
    if (lower === 'host') host = true;
    else if (lower === 'content-length') {
      if (!/^\d{1,15}$/.test(value) || (declared >= 0 && Number(value) !== declared)) throw new InvalidRequestError(`invalid content-length ${JSON.stringify(value)} in upstream request`);
      declared = Number(value);
    } else if (lower === 'transfer-encoding') transferEncoding = true;
    text += `${name}: ${value}\r\n`;
  };
  forEachField(options.headers, add);
  if (!host) text += `host: ${defaultHost}\r\n`;
  if (transferEncoding) throw new InvalidRequestError('transfer-encoding is set by the connection, not by callers, in upstream request');
  const upgrade = options.upgrade;
  if (typeof upgrade === 'string') {
    checkField('upgrade', upgrade);
    text += `connection: upgrade\r\nupgrade: ${upgrade}\r\n`;
  }
  const fixed = fixedBodyLength(options.body);
  let chunked = false;
  if (fixed > 0 || (fixed === 0 && options.body !== null && options.body !== undefined)) {
    if (declared >= 0 && declared !== fixed) throw new InvalidRequestError(`content-length ${declared} does not match the body's ${fixed} bytes in upstream request`);
    if (declared < 0) text += `content-length: ${fixed}\r\n`;
    declared = fixed;
  } else if (fixed < 0) {
    if (declared < 0) {
      text += 'transfer-encoding: chunked\r\n';
      chunked = true;
    }
  } else if (declared < 0 && EXPECTS_BODY.has(method)) {
    text += 'content-length: 0\r\n';
    declared = 0;
  } else if (declared > 0 && (options.body === null || options.body === undefined)) {
    // The upstream would take the next request on the connection for this one's body.
    throw new InvalidRequestError(`content-length ${declared} but no body in upstream request`);
  }
  return { text: `${text}\r\n`, chunked, contentLength: chunked ? -1 : declared };
}
