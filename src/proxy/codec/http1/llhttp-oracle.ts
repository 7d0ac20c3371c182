/**
 * A test oracle, not part of the proxy: how llhttp (Node's HTTP/1 parser, strict as node:http runs it)
 * reads request or response bytes, for the differential tests of weft's parsers (fuzz-messages.ts).
 * Runs as a child process with `--expose-internals` (llhttp is only reachable through Node's internal
 * binding): reads `{ kind, streams }` (streams in base64) as JSON on stdin, writes a JSON array of
 * outcomes on stdout, one per stream: the messages llhttp read (start line, body, whether complete,
 * whether it handed the connection to a tunnel) and its error, if any. A response stream is read to its
 * end as a connection that then closes (a body without framing runs to the close); interim (1xx)
 * responses are left out, as weft's parser skips them.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export type OracleKind = 'request' | 'response';

export interface OracleMessage {
  /** Requests: method and target (responses: empty). */
  method: string;
  target: string;
  /** Responses: the status (requests: 0). */
  status: number;
  /** Body bytes, base64. */
  body: string;
  complete: boolean;
  /** CONNECT, an upgrade or a 101: what follows the head is not HTTP. */
  tunnel: boolean;
}

export interface OracleOutcome {
  messages: OracleMessage[];
  /** llhttp's error code (`HPE_INVALID_HEADER_TOKEN`…), when it stopped on one. */
  error?: string;
}

interface Parser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(buf: Buffer): number | (Error & { code?: string });
  finish(): undefined | (Error & { code?: string });
  [key: number]: unknown;
}

interface HttpParserBinding {
  HTTPParser: { new (): Parser; REQUEST: number; RESPONSE: number; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number };
  methods: string[];
}

function outcome(binding: HttpParserBinding, kind: OracleKind, bytes: Buffer): OracleOutcome {
  const { HTTPParser, methods } = binding;
  const parser = new HTTPParser();
  const messages: OracleMessage[] = [];
  let body: Buffer[] = [];
  let url = '';
  let current: OracleMessage | undefined;
  /** Between messages or in a head (not in a body or its trailers, which also come through kOnHeaders). */
  let inHead = true;
  parser[HTTPParser.kOnHeaders] = (_headers: string[], partialUrl: string) => {
    if (inHead) url += partialUrl;
  };
  parser[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, _headers: string[], method: number, lastUrl: string | undefined, status: number, _message: string, upgrade: boolean) => {
    const request = kind === 'request';
    current = { method: request ? methods[method] ?? String(method) : '', target: request ? url + (lastUrl ?? '') : '', status: request ? 0 : status, body: '', complete: false, tunnel: upgrade || status === 101 };
    url = '';
    body = [];
    inHead = false;
    if (request || status >= 200 || status === 101) messages.push(current);
    return 0;
  };
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => {
    body.push(Buffer.from(chunk));
    if (current !== undefined) current.body = Buffer.concat(body).toString('base64');
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (current !== undefined) current.complete = true;
    inHead = true;
  };
  // Strict, as node:http runs it (no lenient flags); head size as weft's limit in the tests.
  parser.initialize(kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, 60 * 1024, 0);
  const result = parser.execute(bytes);
  if (typeof result !== 'number') return { messages, error: result.code ?? result.message };
  if (kind === 'response' && !messages.some((m) => m.tunnel)) {
    const end = parser.finish();
    if (end instanceof Error) return { messages, error: end.code ?? end.message };
  }
  return { messages };
}

// Run as the oracle child: `node --expose-internals llhttp-oracle.ts < input.json`.
if (process.argv[1] === import.meta.filename) {
  const { internalBinding } = createRequire(import.meta.url)('internal/test/binding') as { internalBinding(name: string): HttpParserBinding };
  const binding = internalBinding('http_parser');
  const { kind, streams } = JSON.parse(readFileSync(0, 'utf8')) as { kind: OracleKind; streams: string[] };
  process.stdout.write(JSON.stringify(streams.map((c) => outcome(binding, kind, Buffer.from(c, 'base64')))));
}
