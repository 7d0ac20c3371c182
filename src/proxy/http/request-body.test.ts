import assert from 'node:assert/strict';
import { PassThrough, type Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { RequestBody } from './request-body.ts';

async function readAll(r: Readable): Promise<string> {
  let s = '';
  for await (const c of r) s += String(c);
  return s;
}

describe('request body', () => {
  it('streams the body through a reader', async () => {
    const src = new PassThrough();
    const body = new RequestBody(src, 0);
    const reader = body.reader();
    src.write('ab');
    src.end('cd');
    assert.equal(await readAll(reader), 'abcd');
    assert.equal(body.ended, true);
    assert.equal(body.bytes, 4);
  });

  it('replays the whole body to a second reader while retained', async () => {
    const src = new PassThrough();
    const body = new RequestBody(src, 100);
    const first = body.reader();
    src.write('hello ');
    const got = await new Promise<string>((resolve) => first.once('data', (c: Buffer) => resolve(c.toString())));
    assert.equal(got, 'hello ');
    first.destroy();
    const second = body.reader();
    src.end('world');
    assert.equal(await readAll(second), 'hello world');
    assert.equal(body.replayable, true);
  });

  it('stops being replayable past the bound, and after stopRetaining', async () => {
    const src = new PassThrough();
    const body = new RequestBody(src, 4);
    const reader = body.reader();
    src.end('more than four');
    assert.equal(await readAll(reader), 'more than four');
    assert.equal(body.replayable, false);
    const b2 = new RequestBody(new PassThrough(), 100);
    b2.stopRetaining();
    assert.equal(b2.replayable, false);
  });

  it('pauses the source while the reader does not read (backpressure)', async () => {
    const src = new PassThrough({ highWaterMark: 16 });
    const body = new RequestBody(src, 0);
    const reader = body.reader();
    reader.pause();
    let writes = 0;
    while (src.write(Buffer.alloc(16)) && writes < 10_000) writes++;
    assert.ok(writes < 10_000, 'the source kept accepting data although nobody read');
    reader.resume();
    src.end();
    await new Promise<void>((resolve) => reader.on('end', resolve));
  });

  it('reports the end of the downstream body', async () => {
    const src = new PassThrough();
    const body = new RequestBody(src, 0);
    let ended = false;
    body.onEnd(() => {
      ended = true;
    });
    const reader = body.reader();
    src.end('x');
    await readAll(reader);
    assert.equal(ended, true);
  });

  it('discards the rest of the body once the exchange is over', async () => {
    const src = new PassThrough();
    const body = new RequestBody(src, 100);
    body.discard();
    src.end('ignored');
    await new Promise<void>((resolve) => src.on('end', resolve));
    assert.equal(body.replayable, false);
  });
});
