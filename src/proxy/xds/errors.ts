/**
 * Typed errors of the proxy's xDS client. Each condition has a stable `code`; messages are for humans.
 * None of these reach the data path: they come from wiring mistakes (registering twice, wanting a type
 * nobody handles) and from bootstrap input.
 */

export type XdsClientErrorCode =
  | 'XDS_CLIENT_HANDLER' // a handler for the type URL is already registered, or registration came too late
  | 'XDS_CLIENT_UNKNOWN_TYPE' // `want` for a type URL without a handler
  | 'XDS_CLIENT_WILDCARD' // `want` for a wildcard type (Listener, Cluster): those are always fully subscribed
  | 'XDS_CLIENT_STATE' // started twice, or used after close
  | 'PROXY_BOOTSTRAP'; // flags or environment do not describe a valid proxy

export class XdsClientError extends Error {
  readonly code: XdsClientErrorCode;
  constructor(code: XdsClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'XdsClientError';
    this.code = code;
  }
}

/** Bootstrap input is invalid; `problems` lists every one (`--flag: problem (got value)`). */
export class BootstrapError extends XdsClientError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('PROXY_BOOTSTRAP', `invalid proxy bootstrap: ${problems.join('; ')}`);
    this.name = 'BootstrapError';
    this.problems = problems;
  }
}
