/**
 * What an HTTP route does instead of (or on top of) forwarding: `HTTPRedirect`, `HTTPDirectResponse`,
 * `HTTPRewrite` and `Delegate`.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRedirect
 */
import * as z from 'zod';
import { atMostOne, obj, oneOf, rules, type RuleIssue } from '../../schema/object.ts';
import { str, uint32 } from '../../schema/primitives.ts';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../../schema/names.ts';
import { showValue } from '../../errors.ts';
import { envoyRegexProblem } from './string-match.ts';

const q = showValue;

/** The redirect codes Istio translates; other 3xx codes make Istio drop the redirect. */
const ENVOY_REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

export const HTTPRedirect = rules(
  obj({
    uri: str().optional(),
    authority: str().optional(),
    port: uint32().optional(),
    derivePort: oneOf(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']).optional(),
    scheme: str().optional(),
    redirectCode: uint32().optional(),
    // Newest API (istio/api HTTPRedirect.prefix_rewrite): strips the matched prefix and prepends this value.
    prefixRewrite: str().optional(),
  }),
  (r, report) => redirectRules(r, report),
);
export type HTTPRedirect = z.output<typeof HTTPRedirect>;

function redirectRules(r: HTTPRedirect, report: (i: RuleIssue) => void): void {
  atMostOne(r, ['port', 'derivePort'], report);
  if (r.uri && r.prefixRewrite) report({ path: ['prefixRewrite'], message: 'redirect may set only one of uri and prefixRewrite' });
  if (!r.uri && !r.prefixRewrite && !r.authority && r.port === undefined && r.derivePort === undefined && !r.scheme) {
    report({ message: 'redirect must change at least one of uri (or prefixRewrite), authority, port (or derivePort) and scheme' });
  }
  const code = r.redirectCode ?? 0;
  if (code !== 0 && (code < 300 || code > 399)) {
    report({ path: ['redirectCode'], message: `must be a 3xx redirect status code (got ${code})` });
  } else if (code !== 0 && !ENVOY_REDIRECT_CODES.has(code)) {
    report({ path: ['redirectCode'], severity: 'warning', message: `redirect code ${code} is not supported: the redirect is dropped (use 301, 302, 303, 307 or 308)` });
  }
  if (r.scheme && r.scheme !== 'http' && r.scheme !== 'https') {
    report({ path: ['scheme'], message: `redirect scheme must be "http" or "https" (got ${q(r.scheme)})` });
  }
  if (r.port !== undefined && r.port > 65535) report({ path: ['port'], message: `must be a port between 1 and 65535 (got ${r.port})` });
}

const KB = 1024;
const MB = 1024 * KB;
const BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;

export const HTTPBody = rules(
  obj({ string: str().optional(), bytes: str().optional() }),
  (b, report) => {
    atMostOne(b, ['string', 'bytes'], report);
    if (b.bytes !== undefined && !BASE64.test(b.bytes)) report({ path: ['bytes'], message: 'bytes must be base64-encoded' });
  },
);
export type HTTPBody = z.output<typeof HTTPBody>;

/** The body size in bytes as Envoy will hold it. */
function bodySize(b: HTTPBody): number {
  if (b.string !== undefined) return Buffer.byteLength(b.string, 'utf8');
  if (b.bytes !== undefined) return Buffer.from(b.bytes, 'base64').length;
  return 0;
}

export const HTTPDirectResponse = rules(
  obj({ status: uint32(), body: HTTPBody.optional() }),
  (d, report) => {
    if (d.status < 200 || d.status > 599) report({ path: ['status'], message: `HTTP status must be between 200 and 599 (got ${d.status})` });
    if (d.body === undefined) return;
    const size = bodySize(d.body);
    const field = d.body.string !== undefined ? 'string' : 'bytes';
    if (size > MB) {
      report({ path: ['body', field], message: `direct response body must be at most 1MB: it is sent to every proxy (got ${size} bytes)` });
    } else if (size > 100 * KB) {
      report({ path: ['body', field], severity: 'warning', message: `large direct response body (${size} bytes) is sent to every proxy and slows configuration pushes` });
    }
  },
);
export type HTTPDirectResponse = z.output<typeof HTTPDirectResponse>;

export const RegexRewrite = rules(
  obj({ match: str().optional(), rewrite: str().optional() }),
  (r, report) => {
    if (!r.match) report({ path: ['match'], message: 'uriRegexRewrite needs both match and rewrite (match is missing)' });
    else {
      const p = envoyRegexProblem(r.match);
      if (p !== undefined) report({ path: ['match'], message: p });
    }
    if (!r.rewrite) report({ path: ['rewrite'], message: 'uriRegexRewrite needs both match and rewrite (rewrite is missing)' });
  },
);
export type RegexRewrite = z.output<typeof RegexRewrite>;

export const HTTPRewrite = rules(
  obj({ uri: str().optional(), authority: str().optional(), uriRegexRewrite: RegexRewrite.optional() }),
  (r, report) => {
    if (r.uri && r.uriRegexRewrite !== undefined) report({ path: ['uriRegexRewrite'], message: 'rewrite may set only one of uri and uriRegexRewrite' });
    if (!r.uri && r.uriRegexRewrite === undefined && !r.authority) report({ message: 'rewrite must set uri, uriRegexRewrite or authority' });
  },
);
export type HTTPRewrite = z.output<typeof HTTPRewrite>;

/** A reference to the VirtualService that holds the routes of a delegating (root) route. */
export const Delegate = rules(
  obj({ name: str().optional(), namespace: str().optional() }),
  (d, report) => {
    if (!d.name) report({ path: ['name'], severity: 'warning', message: 'delegate has no name: it refers to no VirtualService and the route matches nothing' });
    else {
      const p = dns1123SubdomainProblem(d.name);
      if (p !== undefined) report({ path: ['name'], message: p });
    }
    if (d.namespace) {
      const p = dns1123LabelProblem(d.namespace);
      if (p !== undefined) report({ path: ['namespace'], message: p });
    }
  },
);
export type Delegate = z.output<typeof Delegate>;
