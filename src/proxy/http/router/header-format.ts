/**
 * Header values in `request_headers_to_add`/`response_headers_to_add` are Envoy substitution format
 * strings: literal text with `%%` for a percent sign, and commands `%NAME%`, `%NAME(arg)%` or
 * `%NAME(arg):N%` that the connection manager evaluates per request (client address, request
 * headers…). They are parsed once here; a value without commands stays a plain string, so the common
 * case costs nothing per request. Unknown commands and malformed expressions are problems, as Envoy
 * rejects them.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#custom-request-response-headers
 */
import type { Problems } from './proto.ts';

/** One `%NAME(arg):N%` expression. */
export interface FormatCommand {
  readonly name: string;
  /** The text between the parentheses, or '' when there were none. */
  readonly arg: string;
  /** `:N` truncation, when given. */
  readonly maxLength: number | undefined;
}

/** A parsed value: a plain string, or literal parts and commands in order. */
export type HeaderValueFormat = string | readonly (string | FormatCommand)[];

/** Evaluates a command for the current request (the connection manager's job); '' when it has no value. */
export type CommandEvaluator = (command: FormatCommand) => string;

/** The substitution commands of Envoy's access log and header formatters that weft accepts. */
const COMMANDS: ReadonlySet<string> = new Set([
  'REQ', 'RESP', 'TRAILER', 'REQ_WITHOUT_QUERY', 'START_TIME', 'START_TIME_LOCAL', 'REQUEST_DURATION', 'RESPONSE_DURATION',
  'DURATION', 'PROTOCOL', 'UPSTREAM_PROTOCOL', 'RESPONSE_CODE', 'RESPONSE_CODE_DETAILS', 'RESPONSE_FLAGS', 'RESPONSE_FLAGS_LONG',
  'BYTES_RECEIVED', 'BYTES_SENT', 'UPSTREAM_HOST', 'UPSTREAM_CLUSTER', 'UPSTREAM_LOCAL_ADDRESS', 'UPSTREAM_REMOTE_ADDRESS',
  'UPSTREAM_TRANSPORT_FAILURE_REASON', 'UPSTREAM_REQUEST_ATTEMPT_COUNT', 'DOWNSTREAM_REMOTE_ADDRESS',
  'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT', 'DOWNSTREAM_REMOTE_PORT', 'DOWNSTREAM_DIRECT_REMOTE_ADDRESS',
  'DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT', 'DOWNSTREAM_DIRECT_REMOTE_PORT', 'DOWNSTREAM_LOCAL_ADDRESS',
  'DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT', 'DOWNSTREAM_LOCAL_PORT', 'DOWNSTREAM_PEER_URI_SAN', 'DOWNSTREAM_LOCAL_URI_SAN',
  'DOWNSTREAM_PEER_SUBJECT', 'DOWNSTREAM_LOCAL_SUBJECT', 'DOWNSTREAM_TLS_VERSION', 'DOWNSTREAM_PEER_FINGERPRINT_256',
  'DOWNSTREAM_PEER_CERT', 'REQUESTED_SERVER_NAME', 'ROUTE_NAME', 'VIRTUAL_CLUSTER_NAME', 'HOSTNAME', 'CONNECTION_ID',
  'STREAM_ID', 'UPSTREAM_METADATA', 'DYNAMIC_METADATA', 'CLUSTER_METADATA', 'FILTER_STATE', 'UPSTREAM_FILTER_STATE',
  'ENVIRONMENT', 'REQUEST_HEADERS_BYTES', 'RESPONSE_HEADERS_BYTES', 'UPSTREAM_PEER_URI_SAN', 'UPSTREAM_PEER_SUBJECT',
  'UPSTREAM_TLS_VERSION', 'CONNECTION_TERMINATION_DETAILS', 'LOCAL_REPLY_BODY', 'TRACE_ID', 'UNIQUE_ID',
]);

const EXPRESSION = /%([A-Z0-9_]+)(?:\(([^)]*)\))?(?::(\d+))?%/y;

/** Parses `value` (at `path`); a value without commands is returned as the plain string Envoy would send. */
export function parseHeaderValue(value: string, path: string, problems: Problems): HeaderValueFormat {
  if (!value.includes('%')) return value;
  const parts: (string | FormatCommand)[] = [];
  let literal = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (c !== '%') {
      literal += c;
      i++;
      continue;
    }
    if (value[i + 1] === '%') {
      literal += '%';
      i += 2;
      continue;
    }
    EXPRESSION.lastIndex = i;
    const m = EXPRESSION.exec(value);
    if (m === null) {
      problems.add(path, `invalid substitution format in ${JSON.stringify(value)} at position ${i} (write %% for a literal %)`);
      return value;
    }
    const name = m[1]!;
    if (!COMMANDS.has(name)) problems.add(path, `unknown substitution command %${name}% in ${JSON.stringify(value)}`);
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push({ name, arg: m[2] ?? '', maxLength: m[3] === undefined ? undefined : Number(m[3]) });
    i = EXPRESSION.lastIndex;
  }
  if (literal !== '') parts.push(literal);
  return parts.length === 1 && typeof parts[0] === 'string' ? parts[0] : parts;
}

/** The value of a parsed header value for the current request. */
export function formatHeaderValue(format: HeaderValueFormat, evaluate: CommandEvaluator | undefined): string {
  if (typeof format === 'string') return format;
  let out = '';
  for (const part of format) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const v = evaluate?.(part) ?? '';
    out += part.maxLength !== undefined && v.length > part.maxLength ? v.slice(0, part.maxLength) : v;
  }
  return out;
}
