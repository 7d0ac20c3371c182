/**
 * The header block of an upstream HTTP/2 request (RFC 9113 §8.3), from undici's dispatch options as the
 * router gives them: pseudo-headers first (`:authority` from the Host field, or the host's address),
 * then the fields, lowercase, without the connection-specific ones HTTP/2 forbids (RFC 9113 §8.2.2:
 * `te` passes only as `trailers`). Every name and value is checked as for HTTP/1.1, so a bad header
 * rule fails the request with a message naming it instead of resetting the connection.
 */
import type { Dispatcher } from 'undici';
import { isToken } from '../../codec/token.ts';
import { isConnectionSpecific } from '../../codec/http2/fields.ts';
import { checkField, forEachField, InvalidRequestError, TARGET } from '../http1/request-head.ts';
/** Where `:authority`'s value sits in the list. */
const AUTHORITY = 5;

/**
 * Builds the header block as a flat list (`[name, value, …]`, a repeated field once per value), which
 * the HTTP/2 session encodes as is: no header object to copy and walk. Throws `InvalidRequestError`
 * naming what cannot be sent.
 */
export function h2RequestHeaders(options: Dispatcher.DispatchOptions, defaultAuthority: string): string[] {
  const { method, path } = options;
  if (typeof options.upgrade === 'string' || method === 'CONNECT') {
    throw new InvalidRequestError(`${method === 'CONNECT' ? 'CONNECT' : `upgrade to ${options.upgrade}`} is not supported on an HTTP/2 upstream connection`);
  }
  if (!isToken(method)) throw new InvalidRequestError(`invalid method ${JSON.stringify(method)} in upstream request`);
  if (!TARGET.test(path)) throw new InvalidRequestError(`invalid request target ${JSON.stringify(path)} in upstream request`);
  const out = [':method', method, ':scheme', 'http', ':authority', defaultAuthority, ':path', path];
  const field = (rawName: string, value: string): void => {
    checkField(rawName, value);
    const name = rawName.toLowerCase();
    if (name === 'host') out[AUTHORITY] = value;
    else if (name === 'te') {
      if (value.trim().toLowerCase() === 'trailers') out.push(name, 'trailers');
    } else if (!isConnectionSpecific(name) && name !== 'http2-settings') out.push(name, value); // HTTP/1.1's h2c upgrade field
  };
  forEachField(options.headers, field);
  return out;
}
