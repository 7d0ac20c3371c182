/**
 * The load generator's HTTP/1.1 connection: one keep-alive socket that sends a fixed GET and reads the
 * reply's status, `content-length`, `x-weft-error` and body length, and nothing else. node:http's client
 * cost the generator ~0.15 vCPU per 1000 requests (more than the proxy it measures, on the CPU it shares
 * with sidecar A); fortio, which Istio's benchmark uses, is a lean Go client. This one reads through
 * `onread` into one reused buffer; per reply it makes only the strings of its head. Replies
 * must carry `content-length` (every target in the benchmarks does); a chunked or unframed one is an
 * error, as is a closed connection (the next request opens a new one).
 */
import net from 'node:net';

/** Called once per request: undefined for 200 with `expectBytes` of body, else what was wrong. */
export type Done = (problem: string | undefined) => void;

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const MAX_HEAD = 64 * 1024;

export class H1ClientConnection {
  readonly #host: string;
  readonly #port: number;
  readonly #request: Buffer;
  readonly #expectBytes: number;
  readonly #readBuffer = Buffer.allocUnsafe(64 * 1024);
  #socket: net.Socket | undefined;
  #done: Done | undefined;
  /** The reply's head bytes so far (a copy), while its head spans reads. */
  #held: Buffer | undefined;
  /** -1 while reading the head; then the body bytes still to come. */
  #remaining = -1;
  #status = 0;
  #bodyBytes = 0;
  #error = '';

  constructor(host: string, port: number, path: string, hostHeader: string, expectBytes: number) {
    this.#host = host;
    this.#port = port;
    this.#request = Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${hostHeader}\r\nuser-agent: weft-bench\r\n\r\n`, 'latin1');
    this.#expectBytes = expectBytes;
  }

  /** Sends the request; `done` runs once with the outcome. One request at a time. */
  send(done: Done): void {
    if (this.#done !== undefined) throw new Error('H1ClientConnection: a request is already in flight');
    this.#done = done;
    this.#remaining = -1;
    this.#held = undefined;
    this.#socket ??= this.#connect();
    this.#socket.write(this.#request);
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #connect(): net.Socket {
    const socket = net.connect({ host: this.#host, port: this.#port, noDelay: true, onread: { buffer: this.#readBuffer, callback: (n: number, buf: Buffer) => this.#onRead(buf, n) } });
    socket.on('error', (e) => this.#fail(socket, e.message));
    socket.on('close', () => this.#fail(socket, 'connection closed'));
    return socket;
  }

  #fail(socket: net.Socket, problem: string): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    socket.destroy();
    this.#finish(problem);
  }

  #finish(problem: string | undefined): void {
    const done = this.#done;
    this.#done = undefined;
    done?.(problem);
  }

  #onRead(buf: Buffer, n: number): boolean {
    let at = 0;
    while (at < n) {
      if (this.#done === undefined) {
        this.#fail(this.#socket!, 'bytes after the reply');
        return false;
      }
      if (this.#remaining < 0) {
        at = this.#readHead(buf, at, n);
        if (at < 0) return false;
        continue;
      }
      const take = Math.min(this.#remaining, n - at);
      this.#remaining -= take;
      this.#bodyBytes += take;
      at += take;
      if (this.#remaining === 0) this.#replyDone();
    }
    return true;
  }

  /** Reads head bytes from `buf[at..n)`; returns where the body starts, or -1 after a failure. */
  #readHead(buf: Buffer, at: number, n: number): number {
    const chunk = buf.subarray(at, n);
    // The head's end may straddle two reads: search the held bytes' tail together with this read.
    const held = this.#held?.length ?? 0;
    const joined = this.#held === undefined ? chunk : Buffer.concat([this.#held, chunk]);
    const end = joined.indexOf(CRLFCRLF, Math.max(0, held - 3));
    if (end < 0) {
      if (joined.length > MAX_HEAD) return this.#bad('a reply head over 64 KiB');
      this.#held = joined === chunk ? Buffer.from(chunk) : joined; // a copy: the read buffer is reused
      return n;
    }
    const head = joined.toString('latin1', 0, end);
    this.#held = undefined;
    if (!head.startsWith('HTTP/1.') || head.charCodeAt(8) !== 0x20) return this.#bad(`a malformed status line ${JSON.stringify(head.slice(0, 40))}`);
    this.#status = Number(head.slice(9, 12));
    const length = field(head, 'content-length');
    if (length === undefined || !/^\d+$/.test(length)) return this.#bad(`status ${this.#status} without a content-length`);
    this.#error = field(head, 'x-weft-error') ?? '';
    this.#remaining = Number(length);
    this.#bodyBytes = 0;
    const bodyStart = at + (end + 4 - held);
    if (this.#remaining === 0) this.#replyDone();
    return bodyStart;
  }

  #bad(problem: string): number {
    this.#fail(this.#socket!, problem);
    return -1;
  }

  #replyDone(): void {
    this.#remaining = -1;
    if (this.#status !== 200) this.#finish(`${this.#status} ${this.#error}`.trim());
    else this.#finish(this.#bodyBytes === this.#expectBytes ? undefined : `body ${this.#bodyBytes} bytes, expected ${this.#expectBytes}`);
  }
}

/** The value of header `name` (lower case) in a reply head, or undefined. */
function field(head: string, name: string): string | undefined {
  const lower = head.toLowerCase();
  const at = lower.indexOf(`\r\n${name}:`);
  if (at < 0) return undefined;
  const from = at + name.length + 3;
  const to = head.indexOf('\r\n', from);
  return head.slice(from, to < 0 ? head.length : to).trim();
}
