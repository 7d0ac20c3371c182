import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedError, requestHead, responseHead, trailerFields } from './fields.ts';

const GET = [':method', 'GET', ':scheme', 'https', ':authority', 'example.com', ':path', '/a?b=1'];
const malformed = (fn: () => unknown, message: RegExp): void => {
  assert.throws(fn, (err: Error) => err instanceof MalformedError && message.test(err.message), String(message));
};

describe('HTTP/2 request heads', () => {
  it('reads pseudo-headers and fields: repeated fields as arrays, cookie crumbs joined, set-cookie always a list', () => {
    const head = requestHead([...GET, 'accept', 'a', 'accept', 'b', 'cookie', 'x=1', 'cookie', 'y=2', 'content-length', '5', 'te', 'trailers']);
    assert.equal(head.method, 'GET');
    assert.equal(head.scheme, 'https');
    assert.equal(head.authority, 'example.com');
    assert.equal(head.path, '/a?b=1');
    assert.deepEqual(head.headers, { accept: ['a', 'b'], cookie: 'x=1; y=2', 'content-length': '5', te: 'trailers' });
    assert.equal(head.fieldCount, 6);
    assert.equal(head.contentLength, 5);
    assert.deepEqual(responseHead([':status', '200', 'set-cookie', 'a=1']).headers, { 'set-cookie': ['a=1'] });
  });

  it('accepts CONNECT with only :authority, extended CONNECT with :protocol, and OPTIONS *', () => {
    assert.equal(requestHead([':method', 'CONNECT', ':authority', 'db:5432']).path, '');
    assert.equal(requestHead([':method', 'CONNECT', ':protocol', 'websocket', ':scheme', 'http', ':authority', 'x', ':path', '/ws']).protocol, 'websocket');
    assert.equal(requestHead([':method', 'OPTIONS', ':scheme', 'http', ':authority', 'x', ':path', '*']).path, '*');
  });

  it('names what makes a request malformed', () => {
    malformed(() => requestHead([':scheme', 'http', ':path', '/']), /without :method/);
    malformed(() => requestHead([':method', 'GET', ':path', '/']), /without :scheme/);
    malformed(() => requestHead([':method', 'GET', ':scheme', 'http']), /without :path/);
    malformed(() => requestHead([':method', 'GET', ':scheme', 'http', ':path', 'x']), /neither origin-form/);
    malformed(() => requestHead([':method', 'CONNECT', ':scheme', 'http', ':authority', 'x']), /CONNECT with :scheme/);
    malformed(() => requestHead([':method', 'CONNECT']), /CONNECT without :authority/);
    malformed(() => requestHead([':method', 'CONNECT', ':authority', 'db']), /CONNECT :authority "db" is not host:port/);
    malformed(() => requestHead([':method', 'CONNECT', ':authority', 'db:99999']), /is not host:port with a port of 1 to 65535/);
    malformed(() => requestHead([...GET, ':protocol', 'websocket']), /:protocol on a request that is not CONNECT/);
    malformed(() => requestHead([...GET, ':method', 'POST']), /:method appears twice/);
    malformed(() => requestHead([...GET, ':status', '200']), /:status is not allowed/);
    malformed(() => requestHead([':method', 'GET', 'accept', '*', ':path', '/']), /pseudo-header field :path after a regular field/);
    malformed(() => requestHead([...GET, 'Accept', 'x']), /"Accept" is not a lowercase token/);
    malformed(() => requestHead([...GET, 'x-a', ' padded']), /invalid value for field x-a/);
    malformed(() => requestHead([...GET, 'x-a', 'bell\x07']), /invalid value for field x-a/);
    malformed(() => requestHead([...GET, 'connection', 'keep-alive']), /connection-specific field connection/);
    malformed(() => requestHead([...GET, 'transfer-encoding', 'chunked']), /connection-specific field transfer-encoding/);
    malformed(() => requestHead([...GET, 'te', 'gzip']), /only "trailers"/);
    malformed(() => requestHead([...GET, 'content-length', '5', 'content-length', '6']), /invalid content-length "6"/);
    malformed(() => requestHead([...GET, 'content-length', '-1']), /invalid content-length/);
    malformed(() => requestHead([...GET, '__proto__', 'x']), /__proto__, which weft cannot carry/);
  });

  it('refuses an :authority or host that is no valid authority (userinfo, spaces), and a :path no request target could be', () => {
    const get = (authority: string, path = '/'): unknown => requestHead([':method', 'GET', ':scheme', 'http', ':authority', authority, ':path', path]);
    malformed(() => get('u@ratings'), /invalid :authority "u@ratings"/);
    malformed(() => get('a b'), /invalid :authority/);
    malformed(() => get('ratings:9x'), /invalid :authority/);
    malformed(() => get('a{b}'), /invalid :authority/);
    malformed(() => requestHead([':method', 'CONNECT', ':authority', 'u:p@db:5432']), /CONNECT :authority "u:p@db:5432" is not host:port/);
    malformed(() => requestHead([...GET, 'host', 'a b']), /invalid host field/);
    malformed(() => get('x', '/a b'), /:path "\/a b" has a space or control character/);
    malformed(() => get('x', '/a\tb'), /:path .* has a space or control character/);
    for (const ok of ['ratings', 'ratings:9080', '10.0.0.1:80', '[::1]:8080', '[fe80::1%25eth0]', 'a.b-c_d~e', '']) assert.equal(get(ok) !== undefined, true, ok);
    assert.equal(requestHead([...GET, 'host', 'example.com:443']).headers['host'], 'example.com:443');
  });
});

describe('HTTP/2 response heads and trailers', () => {
  it('reads :status, and rejects a missing or odd one', () => {
    assert.equal(responseHead([':status', '103', 'link', '</a>']).status, 103);
    malformed(() => responseHead(['x-a', '1']), /without :status/);
    malformed(() => responseHead([':status', '20']), /not three digits/);
    malformed(() => responseHead([':status', '200', ':path', '/']), /:path is not allowed/);
  });

  it('reads trailers without pseudo-headers', () => {
    assert.deepEqual(trailerFields(['grpc-status', '0', 'grpc-message', 'ok']), { 'grpc-status': '0', 'grpc-message': 'ok' });
    malformed(() => trailerFields([':status', '200']), /pseudo-header field :status in trailers/);
  });
});
