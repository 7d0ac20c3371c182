/**
 * Typed errors of the xDS layer. Each condition has one class and a stable `code` that callers switch
 * on (logs, metrics, tests); messages are for humans and may change.
 */

export type XdsErrorCode = 'XDS_ENCODE' | 'XDS_DECODE' | 'XDS_UNKNOWN_TYPE' | 'XDS_PROTO_LOAD';

export class XdsError extends Error {
  readonly code: XdsErrorCode;
  constructor(code: XdsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'XdsError';
    this.code = code;
  }
}

/** A plain object does not fit its proto message: a generator bug, caught before bytes are written. */
export class XdsEncodeError extends XdsError {
  /** Full message name, e.g. `envoy.config.cluster.v3.Cluster`. */
  readonly typeName: string;
  /** Every problem found, each `field.path: problem`. */
  readonly problems: readonly string[];
  constructor(typeName: string, problems: readonly string[], options?: { cause?: unknown }) {
    super('XDS_ENCODE', `cannot encode ${typeName}: ${problems.join('; ')}`, options);
    this.name = 'XdsEncodeError';
    this.typeName = typeName;
    this.problems = problems;
  }
}
