/**
 * A test oracle, not part of the proxy: how llhttp (Node's HTTP/1 parser, strict as node:http runs it)
 * reads request bytes, for the differential fuzz test of weft's request parser
 * (request-parser.fuzz.test.ts). Runs as a child process with `--expose-internals` (llhttp is only
 * reachable through Node's internal binding): reads a JSON array of base64 request streams on stdin,
 * writes a JSON array of outcomes on stdout, one per stream: the messages llhttp read (method, target,
 * body, whether complete, whether it handed the connection to a tunnel) and its error, if any.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface OracleMessage {
  method: string;
  target: string;
  /** Body bytes, base64. */
  body: string;
  complete: boolean;
  /** CONNECT or an upgrade: what follows the head is not HTTP. */
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
  finish(): unknown;
  [key: number]: unknown;
}

interface HttpParserBinding {
  HTTPParser: { new (): Parser; REQUEST: number; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number };
  methods: string[];
}

function outcome(binding: HttpParserBinding, bytes: Buffer): OracleOutcome {
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
  parser[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, _headers: string[], method: number, lastUrl: string | undefined, _status: number, _message: string, upgrade: boolean) => {
    current = { method: methods[method] ?? String(method), target: url + (lastUrl ?? ''), body: '', complete: false, tunnel: upgrade };
    url = '';
    body = [];
    inHead = false;
    messages.push(current);
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
  // Strict, as node:http's server (no lenient flags); head size as weft's test limit.
  parser.initialize(HTTPParser.REQUEST, {}, 60 * 1024, 0);
  const result = parser.execute(bytes);
  if (typeof result !== 'number') return { messages, error: result.code ?? result.message };
  return { messages };
}

// Run as the oracle child: `node --expose-internals llhttp-oracle.ts < cases.json`.
if (process.argv[1] === import.meta.filename) {
  const { internalBinding } = createRequire(import.meta.url)('internal/test/binding') as { internalBinding(name: string): HttpParserBinding };
  const binding = internalBinding('http_parser');
  const cases = JSON.parse(readFileSync(0, 'utf8')) as string[];
  process.stdout.write(JSON.stringify(cases.map((c) => outcome(binding, Buffer.from(c, 'base64')))));
}
