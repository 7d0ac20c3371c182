import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { writeHeadAndBody } from './head-and-body.ts';

/** A socket that records what each write call and each cork/uncork span carried. */
function recorder(): { socket: Socket; writes: Buffer[]; flushes: Buffer[] } {
  const writes: Buffer[] = [];
  const flushes: Buffer[] = [];
  let corked = 0;
  let pending: Buffer[] = [];
  const socket = {
    cork: () => void corked++,
    uncork: () => {
      if (--corked === 0) {
        flushes.push(Buffer.concat(pending));
        pending = [];
      }
    },
    write: (data: string | Uint8Array, encoding?: BufferEncoding) => {
      const bytes = typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : Buffer.from(data);
      writes.push(bytes);
      if (corked > 0) pending.push(bytes);
      else flushes.push(bytes);
      return true;
    },
  } as unknown as Socket;
  return { socket, writes, flushes };
}

const head = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=\xe9\r\n\r\n';

describe('writeHeadAndBody', () => {
  it('copies a small head and body into one write', () => {
    const { socket, writes } = recorder();
    assert.equal(writeHeadAndBody(socket, head, Buffer.from('hello'), false), true);
    assert.equal(writes.length, 1);
    assert.deepEqual(writes[0], Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from('hello')]));
  });

  it('frames the body as one chunk when chunked', () => {
    const { socket, writes } = recorder();
    writeHeadAndBody(socket, head, Buffer.alloc(26, 'z'), true);
    assert.equal(writes.length, 1);
    assert.equal(writes[0]!.toString('latin1'), `${head}1a\r\n${'z'.repeat(26)}\r\n`);
  });

  it('corks a large body behind the head instead of copying it, the same bytes in one flush', () => {
    for (const chunked of [false, true]) {
      const { socket, writes, flushes } = recorder();
      const body = Buffer.alloc(40_000, 'b');
      writeHeadAndBody(socket, head, body, chunked);
      assert.ok(writes.length > 1, 'written in parts');
      assert.ok(writes.includes(body) || writes.some((w) => w.length === body.length), 'the body is not copied into a bigger buffer');
      assert.equal(flushes.length, 1);
      const framed = chunked ? `${body.length.toString(16)}\r\n${body.toString('latin1')}\r\n` : body.toString('latin1');
      assert.equal(flushes[0]!.toString('latin1'), head + framed);
    }
  });
});
