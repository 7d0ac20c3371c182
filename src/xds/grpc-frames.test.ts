import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameMessage, MessageReader, MessageTooLarge } from './grpc-frames.ts';

const frame = (text: string, compressed = false): Buffer => frameMessage(Buffer.from(text), compressed);

/** Feeds `chunks` to a reader and returns what it delivered, as `text` or `gz:text`. */
function read(chunks: readonly Buffer[], reader = new MessageReader()): string[] {
  const got: string[] = [];
  for (const c of chunks) reader.push(c, (compressed, body) => void got.push(`${compressed ? 'gz:' : ''}${body.toString()}`));
  return got;
}

describe('MessageReader', () => {
  it('delivers the messages of a chunk holding several, and empty ones', () => {
    assert.deepEqual(read([Buffer.concat([frame('a'), frame(''), frame('ccc', true)])]), ['a', '', 'gz:ccc']);
  });

  it('joins messages split at every byte, and messages that end mid-chunk', () => {
    const all = Buffer.concat([frame('hello'), frame('world!'), frame('x')]);
    assert.deepEqual(read([...all].map((b) => Buffer.of(b))), ['hello', 'world!', 'x']);
    for (let cut = 1; cut < all.length; cut++) {
      assert.deepEqual(read([all.subarray(0, cut), all.subarray(cut)]), ['hello', 'world!', 'x'], `cut at ${cut}`);
    }
  });

  it('stops when the handler says so and keeps the rest for the next push', () => {
    const reader = new MessageReader();
    const got: string[] = [];
    let stop = true;
    const each = (_c: boolean, body: Buffer) => {
      got.push(body.toString());
      return !stop;
    };
    reader.push(Buffer.concat([frame('one'), frame('two'), frame('thr')]), each);
    assert.deepEqual(got, ['one']);
    stop = false;
    reader.push(frame('four'), each);
    assert.deepEqual(got, ['one', 'two', 'thr', 'four']);
  });

  it('refuses a message over the limit as soon as its prefix arrives', () => {
    const big = frame('x'.repeat(100));
    assert.throws(() => read([big.subarray(0, 5)], new MessageReader(99)), (e: unknown) => e instanceof MessageTooLarge && e.length === 100 && e.limit === 99);
    assert.throws(() => read([frame('ok'), big], new MessageReader(99)), MessageTooLarge);
    assert.deepEqual(read([big], new MessageReader(100)), ['x'.repeat(100)]);
  });
});
