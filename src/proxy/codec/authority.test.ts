import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isConnectableAuthority, isValidAuthority, splitAbsoluteForm } from './authority.ts';

/** The rule spelled out plainly: authority characters, and digits after the last colon outside an IP literal. */
function reference(a: string): boolean {
  if (!/^[!$%&'()*+,\-.:;=[\]_~0-9a-zA-Z]*$/.test(a)) return false;
  const colon = a.lastIndexOf(':');
  if (colon < 0 || a.lastIndexOf(']') > colon) return true;
  return /^[0-9]*$/.test(a.slice(colon + 1));
}

describe('authority', () => {
  it('takes host names, IPv4 and IPv6 literals with or without a port; refuses userinfo, spaces and a port that is not digits', () => {
    for (const ok of ['reviews', 'reviews.default.svc.cluster.local:9080', '10.0.0.1:80', '[::1]', '[::1]:8080', 'h:', "a!$&'()*+,;=_~-b"]) assert.ok(isValidAuthority(ok), ok);
    for (const bad of ['a b', 'u@ratings', 'h:8x', 'h:80/', 'é', '[::1]:8a', 'h\t']) assert.ok(!isValidAuthority(bad), bad);
  });

  it('agrees with the rule spelled out on random strings (property)', () => {
    const alphabet = 'a1:]["@ 9.%';
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      for (let n = rnd(9); n > 0; n--) s += alphabet[rnd(alphabet.length)];
      assert.equal(isValidAuthority(s), reference(s), JSON.stringify(s));
    }
  });

  it('is connectable with a host and a port of 1 to 65535 (required for CONNECT)', () => {
    assert.ok(isConnectableAuthority('ratings:9080', true));
    assert.ok(isConnectableAuthority('ratings', false));
    for (const bad of ['ratings', ':80', 'ratings:0', 'ratings:65536', '/x']) assert.ok(!isConnectableAuthority(bad, true), bad);
  });

  it('splits an http(s) absolute-form target into authority and path, in any case of the scheme, after any userinfo', () => {
    assert.deepEqual(splitAbsoluteForm('http://svc.example:8080/a/b?c=d'), { authority: 'svc.example:8080', path: '/a/b?c=d', scheme: 'http' });
    assert.deepEqual(splitAbsoluteForm('HTTPS://Svc.example'), { authority: 'Svc.example', path: '/', scheme: 'https' });
    assert.deepEqual(splitAbsoluteForm('hTtP://h?q=1'), { authority: 'h', path: '/?q=1', scheme: 'http' });
    assert.deepEqual(splitAbsoluteForm('http://user:pw@h/p#frag'), { authority: 'h', path: '/p', scheme: 'http' });
    assert.deepEqual(splitAbsoluteForm('HTTPS://u@h#f'), { authority: 'h', path: '/', scheme: 'https' });
    assert.deepEqual(splitAbsoluteForm('http://[::1]:80/x'), { authority: '[::1]:80', path: '/x', scheme: 'http' });
    for (const other of ['/path', '*', 'ftp://h/x', 'httpx://h/x', 'http:/x', 'http']) assert.equal(splitAbsoluteForm(other), undefined, other);
  });
});
