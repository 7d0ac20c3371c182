import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hasEscapedSlash, normalizePath, unescapeSlashes } from './path-normalization.ts';

const canonical = (path: string): string | undefined => normalizePath(path, true, false);

describe('path normalization (Envoy canonicalPath = Chromium url_canon_path, merge_slashes, escaped slashes)', () => {
  it('removes dot segments, also percent-encoded and with backslashes, never above the root, keeping the query', () => {
    assert.equal(canonical('/a/./b/../c?x=/../'), '/a/c?x=/../');
    assert.equal(canonical('/a/b/../../../../c'), '/c');
    assert.equal(canonical('/a/b/%2E%2e/c'), '/a/c');
    assert.equal(canonical('/a/%2e%2E/b'), '/b');
    assert.equal(canonical('/a/b/..'), '/a/');
    assert.equal(canonical('/a/.'), '/a/');
    assert.equal(canonical('/a/..\\c'), '/c');
    assert.equal(canonical('/x\\..\\admin/secret'), '/admin/secret');
    assert.equal(canonical('/.well-known/x/..y'), '/.well-known/x/..y');
    assert.equal(canonical('/a/...'), '/a/...');
    assert.equal(canonical('/a%2e/b'), '/a./b'); // %2e is a dot wherever it is
  });

  it('decodes escaped unreserved characters and keeps other escapes exactly as sent', () => {
    assert.equal(canonical('/%61dmin/secret'), '/admin/secret');
    assert.equal(canonical('/%41%7a%30%2D%5f%7E'), '/Az0-_~');
    assert.equal(canonical('/%c0%af'), '/%c0%af');
    assert.equal(canonical('/%5c%25'), '/%5c%25');
    assert.equal(canonical('/a%2fb%2F'), '/a%2fb%2F');
    assert.equal(canonical('/%zz/%4'), '/%zz/%4');
    // A % that began no escape cannot become one once what follows it is decoded (Chromium's nested escapes).
    assert.equal(canonical('/%%30%30'), '/%2500');
    assert.equal(canonical('/%%3030'), '/%25030');
    assert.equal(canonical('/%%36%31'), '/%2561');
  });

  it('escapes characters a path must not carry raw, and converts backslashes', () => {
    assert.equal(canonical('/a"b<c>d`e{f|g}h^i#j'), '/a%22b%3Cc%3Ed%60e%7Bf%7Cg%7Dh%5Ei%23j');
    assert.equal(canonical('/caf\xe9'), '/caf%E9');
    assert.equal(canonical('/a\\b'), '/a/b');
    assert.equal(canonical("/!$&'()*+,;=:@[]~"), "/!$&'()*+,;=:@[]~");
  });

  it('refuses NUL, raw or escaped, and paths not starting with a slash', () => {
    assert.equal(canonical('/a%00b'), undefined);
    assert.equal(canonical('/a\0b'), undefined);
    assert.equal(canonical('relative'), undefined);
    assert.equal(normalizePath('', true, true), undefined);
  });

  it('leaves a path that is already canonical as it is (the query untouched)', () => {
    for (const p of ['/', '/a/b/c', '/a/b/c/', '/api/v1/items?x=%2e%2e/..', '/static/app.js']) assert.equal(canonical(p), p);
  });

  it('merges slashes after canonicalization, in the path part only', () => {
    assert.equal(normalizePath('/a//b///c', false, true), '/a/b/c');
    assert.equal(normalizePath('//a/b/c//?x=//', false, true), '/a/b/c/?x=//');
    assert.equal(normalizePath('/a/.//b', true, true), '/a/b');
    assert.equal(normalizePath('/a/.//b', true, false), '/a//b');
  });

  it('finds and decodes escaped slashes and backslashes in the path part', () => {
    assert.equal(hasEscapedSlash('/a%2Fb'), true);
    assert.equal(hasEscapedSlash('/a%5cb'), true);
    assert.equal(hasEscapedSlash('/a%2eb?x=%2F'), false);
    assert.equal(unescapeSlashes('%2fa%5Cb%2fc%5c?%2fabcd%5C%%2f%'), '/a\\b/c\\?%2fabcd%5C%%2f%');
    assert.equal(normalizePath(unescapeSlashes('/a%2F..%2Fadmin'), true, false), '/admin');
  });

  it('is idempotent and leaves no dot segment, for paths made of the characters that matter (property)', () => {
    const path = fc.array(fc.constantFrom('/', '.', '%', '2', 'e', 'E', 'f', 'F', '5', 'c', '3', '0', '6', '1', 'a', '\\', '//'), { maxLength: 24 }).map((parts) => `/${parts.join('')}`);
    fc.assert(fc.property(path, fc.boolean(), (p, merge) => {
      const once = normalizePath(p, true, merge);
      if (once === undefined) return assert.match(p, /%00/); // only NUL is refused
      assert.equal(normalizePath(once, true, merge), once, p);
      assert.doesNotMatch(once, /\/\.\.?(\/|$)/, p);
    }), { numRuns: 2000 });
  });
});
