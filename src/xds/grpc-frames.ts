/**
 * gRPC's length-prefixed messages on a byte stream (1 byte compressed flag, 4 bytes big-endian length,
 * the message): splits what HTTP/2 delivers, in chunks of any size, back into messages. A message may span
 * chunks and a chunk may hold several; chunks are joined once per message, when all of it has arrived.
 * https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md
 */

/** A message written straight into its frame: its size is known first, then its bytes are written at `offset`. */
export interface FramedMessage {
  readonly length: number;
  writeTo(out: Buffer, offset: number): void;
}

/** Called per complete message; returning false stops reading (the rest stays buffered). */
export type OnMessage = (compressed: boolean, body: Buffer) => boolean | void;

export class MessageTooLarge extends Error {
  readonly length: number;
  readonly limit: number;

  constructor(length: number, limit: number) {
    super(`message of ${length} bytes exceeds the limit of ${limit}`);
    this.length = length;
    this.limit = limit;
  }
}

export class MessageReader {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Size of the message being received (prefix included), or -1 before its prefix arrived. */
  #need = -1;

  /** Messages longer than `maxBytes` make `push` throw `MessageTooLarge` as soon as their prefix is read. */
  constructor(maxBytes = Infinity) {
    this.#maxBytes = maxBytes;
  }

  push(chunk: Buffer, each: OnMessage): void {
    if (this.#buffered === 0) {
      // Nothing pending (the usual case: a chunk holds whole messages): read them straight from it.
      const pos = this.#direct(chunk, each);
      if (pos === chunk.length) return;
      if (pos < 0) {
        // The handler said stop: keep the rest for later, as below.
        const rest = chunk.subarray(-pos);
        if (rest.length > 0) {
          this.#chunks.push(rest);
          this.#buffered = rest.length;
        }
        return;
      }
      if (pos > 0) chunk = chunk.subarray(pos);
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < 5) return;
        if (this.#chunks[0]!.length < 5) this.#chunks = [Buffer.concat(this.#chunks)];
        const length = this.#chunks[0]!.readUInt32BE(1);
        if (length > this.#maxBytes) throw new MessageTooLarge(length, this.#maxBytes);
        this.#need = 5 + length;
      }
      if (this.#buffered < this.#need) return;
      const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#buffered);
      const rest = all.subarray(this.#need);
      const compressed = all[0] !== 0;
      const body = all.subarray(5, this.#need);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
      this.#need = -1;
      if (each(compressed, body) === false) return;
    }
  }

  /**
   * Delivers the whole messages at the start of `chunk`; returns where the rest (a partial message)
   * starts, or its start negated when a handler said stop (-0 never happens: a message is ≥ 5 bytes).
   */
  #direct(chunk: Buffer, each: OnMessage): number {
    let pos = 0;
    while (chunk.length - pos >= 5) {
      const length = chunk.readUInt32BE(pos + 1);
      if (length > this.#maxBytes) throw new MessageTooLarge(length, this.#maxBytes);
      const end = pos + 5 + length;
      if (end > chunk.length) break;
      const compressed = chunk[pos] !== 0;
      const body = chunk.subarray(pos + 5, end);
      pos = end;
      if (each(compressed, body) === false) return -pos;
    }
    return pos;
  }

  /** Forgets what is buffered (the stream is over). */
  clear(): void {
    this.#chunks = [];
    this.#buffered = 0;
    this.#need = -1;
  }
}

/** Writes the 5-byte prefix of an uncompressed message of `length` bytes at the start of `out`. */
export function writePrefix(out: Buffer, length: number): void {
  out[0] = 0;
  out.writeUInt32BE(length, 1);
}

/** `body` as a length-prefixed message in a buffer of its own (flagged compressed when it is). */
export function frameMessage(body: Uint8Array, compressed = false): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  writePrefix(out, body.length);
  if (compressed) out[0] = 1;
  out.set(body, 5);
  return out;
}
