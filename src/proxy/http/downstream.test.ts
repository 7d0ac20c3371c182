import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitAbsoluteForm } from './downstream.ts';

describe('absolute-form request targets', () => {
  it('splits authority and path', () => {
    assert.deepEqual(splitAbsoluteForm('http://svc.example:8080/a/b?c=d'), { authority: 'svc.example:8080', path: '/a/b?c=d', scheme: 'http' });
    assert.deepEqual(splitAbsoluteForm('HTTPS://Svc.example'), { authority: 'Svc.example', path: '/', scheme: 'https' });
    assert.deepEqual(splitAbsoluteForm('http://h?q=1'), { authority: 'h', path: '/?q=1', scheme: 'http' });
    assert.deepEqual(splitAbsoluteForm('http://user:pw@h/p#frag'), { authority: 'h', path: '/p', scheme: 'http' });
    assert.deepEqual(splitAbsoluteForm('http://[::1]:80/x'), { authority: '[::1]:80', path: '/x', scheme: 'http' });
  });

  it('leaves origin-form and other schemes alone', () => {
    assert.equal(splitAbsoluteForm('/path'), undefined);
    assert.equal(splitAbsoluteForm('*'), undefined);
    assert.equal(splitAbsoluteForm('ftp://h/x'), undefined);
    assert.equal(splitAbsoluteForm('httpx://h/x'), undefined);
  });
});
