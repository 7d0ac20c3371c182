import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { InvalidRequestError, requestHead } from './request-head.ts';

function head(options: Partial<Dispatcher.DispatchOptions>): ReturnType<typeof requestHead> {
  return requestHead({ path: '/', method: 'GET', ...options } as Dispatcher.DispatchOptions, '10.0.0.1:80');
}

describe('HTTP/1.1 request head', () => {
  it('writes the request line and the router\'s flat header list, with a default host', () => {
    const h = head({ path: '/a?b=1', headers: ['x-a', '1', 'x-a', '2', 'accept', '*/*'] });
    assert.equal(h.text, 'GET /a?b=1 HTTP/1.1\r\nx-a: 1\r\nx-a: 2\r\naccept: */*\r\nhost: 10.0.0.1:80\r\n\r\n');
    assert.equal(h.chunked, false);
    assert.equal(h.contentLength, -1, 'no body, none declared');
  });

  it('takes header objects too, and keeps the caller\'s host', () => {
    const h = head({ headers: { Host: 'svc', 'x-list': ['a', 'b'] } });
    assert.equal(h.text, 'GET / HTTP/1.1\r\nHost: svc\r\nx-list: a\r\nx-list: b\r\n\r\n');
  });

  it('frames bodies: fixed length, a declared stream length, chunked otherwise; POST without a body says length 0', () => {
    assert.match(head({ method: 'POST', body: 'héllo' }).text, /\r\ncontent-length: 6\r\n\r\n$/);
    assert.equal(head({ method: 'POST', body: Buffer.alloc(3) }).contentLength, 3);
    const stream = head({ method: 'POST', body: Readable.from([]) });
    assert.equal(stream.chunked, true);
    assert.match(stream.text, /\r\ntransfer-encoding: chunked\r\n\r\n$/);
    const declared = head({ method: 'PUT', body: Readable.from([]), headers: ['content-length', '10'] });
    assert.equal(declared.chunked, false);
    assert.equal(declared.contentLength, 10);
    assert.doesNotMatch(declared.text, /transfer-encoding/);
    assert.match(head({ method: 'POST' }).text, /\r\ncontent-length: 0\r\n\r\n$/);
    assert.doesNotMatch(head({ method: 'DELETE' }).text, /content-length/);
  });

  it('asks for an upgrade', () => {
    assert.match(head({ upgrade: 'websocket' }).text, /\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n$/);
  });

  it('refuses what would split or smuggle a request, naming it', () => {
    const bad: [Partial<Dispatcher.DispatchOptions>, RegExp][] = [
      [{ headers: ['x-a', 'v\r\nx-injected: 1'] }, /CR, LF or NUL\) in value of header "x-a"/],
      [{ headers: ['x-a', 'v\0'] }, /header "x-a"/],
      [{ headers: ['bad name', 'v'] }, /invalid header name "bad name"/],
      [{ path: '/a b' }, /invalid request target "\/a b"/],
      [{ path: '/a\r\nGET /b' }, /invalid request target/],
      [{ method: 'GE T' as 'GET' }, /invalid method/],
      [{ method: 'POST', body: 'abc', headers: ['content-length', '5'] }, /content-length 5 does not match the body's 3 bytes/],
      // A length with nothing behind it: the upstream would take the next request for this one's body.
      [{ method: 'POST', body: null, headers: ['content-length', '29'] }, /content-length 29 but no body/],
      [{ headers: ['content-length', '1', 'content-length', '2'] }, /invalid content-length "2"/],
      [{ headers: ['transfer-encoding', 'chunked'] }, /transfer-encoding is set by the connection/],
      [{ upgrade: 'web\r\nsocket' }, /header "upgrade"/],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => head(options), (err: unknown) => err instanceof InvalidRequestError && message.test(err.message), JSON.stringify(options));
    }
  });
});
