/**
 * `envoy.filters.listener.tls_inspector`: reads the ClientHello (without answering it) to learn
 * whether the connection is TLS, its SNI and its ALPN list, for `server_names`, `transport_protocol`
 * and `application_protocols` matching. The bytes read are replayed by the network filter (`preread`).
 * A ClientHello over 64 KiB closes the connection (`tls_inspector.client_hello_too_large`).
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/listener_filters/tls_inspector
 */
import type { Proto } from '../core/contracts.ts';
import type { Counter, Stats } from '../core/stats.ts';
import { boolValue, uintValue } from '../network/proto-read.ts';
import { parseClientHello } from './client-hello.ts';
import type { InspectResult, InspectState, ListenerFilter, ListenerFilterFactory } from './listener-filter.ts';

export const TLS_INSPECTOR_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';

/** Envoy's cap on a ClientHello (TLS_MAX_CLIENT_HELLO). */
export const MAX_CLIENT_HELLO = 64 * 1024;

interface TlsStats {
  readonly tooLarge: Counter;
  readonly tlsFound: Counter;
  readonly tlsNotFound: Counter;
  readonly alpnFound: Counter;
  readonly alpnNotFound: Counter;
  readonly sniFound: Counter;
  readonly sniNotFound: Counter;
}

class TlsInspector implements ListenerFilter {
  readonly maxReadBytes = MAX_CLIENT_HELLO;
  readonly #stats: TlsStats;

  constructor(stats: TlsStats) {
    this.#stats = stats;
  }

  inspect(state: InspectState, data: Buffer): InspectResult {
    const hello = parseClientHello(data);
    const s = this.#stats;
    if (hello.kind === 'more') {
      if (data.length < MAX_CLIENT_HELLO) return 'need-data';
      s.tooLarge.value++;
      return 'close';
    }
    if (hello.kind === 'not-tls') {
      s.tlsNotFound.value++;
      return 'continue';
    }
    s.tlsFound.value++;
    state.transport = 'tls';
    state.serverName = hello.serverName;
    (hello.serverName === '' ? s.sniNotFound : s.sniFound).value++;
    if (hello.alpn.length > 0) state.alpn = hello.alpn;
    (hello.alpn.length === 0 ? s.alpnNotFound : s.alpnFound).value++;
    return 'continue';
  }
}

export const tlsInspectorFactory: ListenerFilterFactory = {
  typeUrl: TLS_INSPECTOR_TYPE_URL,
  validate(config: Proto): string[] {
    const problems: string[] = [];
    // JA3 fingerprints only feed access logs, which come with the telemetry work: accepted, not computed.
    boolValue(config, 'enableJa3Fingerprinting', 'typedConfig', problems);
    const size = uintValue(config, 'initialReadBufferSize', 'typedConfig', problems);
    if (size !== undefined && (size < 256 || size > 65536)) problems.push(`typedConfig.initialReadBufferSize: must be 256-65536 (got ${size})`);
    return problems;
  },
  create(_config: Proto, stats: Stats): ListenerFilter {
    return new TlsInspector({
      tooLarge: stats.counter('tls_inspector.client_hello_too_large'),
      tlsFound: stats.counter('tls_inspector.tls_found'),
      tlsNotFound: stats.counter('tls_inspector.tls_not_found'),
      alpnFound: stats.counter('tls_inspector.alpn_found'),
      alpnNotFound: stats.counter('tls_inspector.alpn_not_found'),
      sniFound: stats.counter('tls_inspector.sni_found'),
      sniNotFound: stats.counter('tls_inspector.sni_not_found'),
    });
  },
};
