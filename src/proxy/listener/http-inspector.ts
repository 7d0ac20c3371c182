/**
 * `envoy.filters.listener.http_inspector`: tells HTTP/1.x from HTTP/2 with prior knowledge on a
 * plaintext connection by its first bytes, and sets the application protocol (`http/1.1`, `http/1.0`,
 * `h2c`) for `application_protocols` matching. Skipped when the TLS inspector found TLS. Bytes that
 * cannot start an HTTP request end the inspection at once ("not HTTP"), so other protocols pay only
 * for their first packet. The bytes read are replayed by the network filter (`preread`).
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/listener_filters/http_inspector
 */
import type { Proto } from '../core/contracts.ts';
import type { Counter, Stats } from '../core/stats.ts';
import type { InspectResult, InspectState, ListenerFilter, ListenerFilterFactory } from './listener-filter.ts';
import { TOKEN } from '../codec/token.ts';

export const HTTP_INSPECTOR_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector';

/** Envoy's inspection limit (MAX_INSPECT_SIZE): a request line longer than this is "not HTTP". */
export const MAX_INSPECT_SIZE = 8192;

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const VERSION_PREFIX = 'HTTP/1.';

export type HttpDetection = 'h2c' | 'http/1.1' | 'http/1.0' | 'none' | 'more';


/** Classifies the first bytes of a plaintext connection. */
export function detectHttp(data: Buffer): HttpDetection {
  const n = Math.min(data.length, H2_PREFACE.length);
  if (n > 0 && data.compare(H2_PREFACE, 0, n, 0, n) === 0) return data.length >= H2_PREFACE.length ? 'h2c' : 'more';
  // method SP request-target SP HTTP/1.x CRLF
  let phase = 0;
  let versionStart = -1;
  const limit = Math.min(data.length, MAX_INSPECT_SIZE);
  for (let i = 0; i < limit; i++) {
    const c = data[i]!;
    if (phase === 0) {
      if (c === 0x20 && i > 0) phase = 1;
      else if (c >= 128 || TOKEN[c] === 0) return 'none';
    } else if (phase === 1) {
      if (c === 0x20 && data[i - 1] !== 0x20) {
        phase = 2;
        versionStart = i + 1;
      } else if (c <= 0x20 || c === 0x7f) return 'none';
    } else {
      const at = i - versionStart;
      if (at < VERSION_PREFIX.length) {
        if (c !== VERSION_PREFIX.charCodeAt(at)) return 'none';
      } else if (at === VERSION_PREFIX.length) {
        if (c !== 0x30 && c !== 0x31) return 'none';
      } else if (at === VERSION_PREFIX.length + 1) {
        if (c !== 0x0d && c !== 0x0a) return 'none';
        return data[i - 1] === 0x31 ? 'http/1.1' : 'http/1.0';
      }
    }
  }
  return data.length >= MAX_INSPECT_SIZE ? 'none' : 'more';
}

interface HttpStats {
  readonly http10: Counter;
  readonly http11: Counter;
  readonly http2: Counter;
  readonly notFound: Counter;
}

class HttpInspector implements ListenerFilter {
  readonly maxReadBytes = MAX_INSPECT_SIZE;
  readonly #stats: HttpStats;

  constructor(stats: HttpStats) {
    this.#stats = stats;
  }

  inspect(state: InspectState, data: Buffer): InspectResult {
    if (state.transport !== 'raw_buffer') return 'continue';
    const found = detectHttp(data);
    switch (found) {
      case 'more':
        return 'need-data';
      case 'none':
        this.#stats.notFound.value++;
        return 'continue';
      case 'h2c':
        this.#stats.http2.value++;
        break;
      case 'http/1.1':
        this.#stats.http11.value++;
        break;
      case 'http/1.0':
        this.#stats.http10.value++;
        break;
    }
    state.alpn = [found];
    return 'continue';
  }
}

export const httpInspectorFactory: ListenerFilterFactory = {
  typeUrl: HTTP_INSPECTOR_TYPE_URL,
  validate: () => [],
  create(_config: Proto, stats: Stats): ListenerFilter {
    return new HttpInspector({
      http10: stats.counter('http_inspector.http10_found'),
      http11: stats.counter('http_inspector.http11_found'),
      http2: stats.counter('http_inspector.http2_found'),
      notFound: stats.counter('http_inspector.http_not_found'),
    });
  },
};
