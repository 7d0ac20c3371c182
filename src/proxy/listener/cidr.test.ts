import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cidrContains, cidrKey, isLoopback, parseCidr, parseIp, sameIp } from './cidr.ts';
import type { Cidr } from './cidr.ts';

function cidr(prefix: string, len: number): Cidr {
  const c = parseCidr(prefix, len);
  assert.equal(typeof c, 'object', String(c));
  return c as Cidr;
}

test('IPv4 containment, masked on parse', () => {
  assert.ok(cidrContains(cidr('10.1.2.3', 8), parseIp('10.200.0.1')!));
  assert.ok(!cidrContains(cidr('10.0.0.0', 8), parseIp('11.0.0.1')!));
  assert.ok(cidrContains(cidr('0.0.0.0', 0), parseIp('192.168.1.1')!));
  assert.ok(cidrContains(cidr('192.168.1.7', 32), parseIp('192.168.1.7')!));
  assert.ok(!cidrContains(cidr('192.168.1.7', 32), parseIp('192.168.1.8')!));
  assert.equal(cidrKey(cidr('10.1.2.3', 8)), cidrKey(cidr('10.0.0.0', 8)));
});

test('IPv6 containment and IPv4-mapped addresses', () => {
  assert.ok(cidrContains(cidr('2001:db8::', 32), parseIp('2001:db8:1::5')!));
  assert.ok(!cidrContains(cidr('2001:db8::', 33), parseIp('2001:db8:8000::1')!));
  assert.ok(cidrContains(cidr('::', 0), parseIp('fe80::1%eth0')!));
  assert.ok(cidrContains(cidr('127.0.0.0', 8), parseIp('::ffff:127.0.1.3')!), 'mapped address reads as IPv4');
  assert.ok(!cidrContains(cidr('::', 0), parseIp('10.0.0.1')!), 'families do not mix');
  assert.deepEqual(parseIp('::ffff:1.2.3.4'), parseIp('1.2.3.4'));
  assert.deepEqual(parseIp('1:2:3:4:5:6:7:8')!.words, [0x10002, 0x30004, 0x50006, 0x70008]);
  assert.deepEqual(parseIp('::1.2.3.4')!.words, [0, 0, 0, 0x01020304]);
});

test('bad ranges are problems, not exceptions', () => {
  assert.match(String(parseCidr('10.0.0.0', 33)), /out of range/);
  assert.match(String(parseCidr('example.com', 8)), /not an IP/);
  assert.equal(parseIp('300.1.1.1'), undefined);
});

test('loopback and same-IP checks', () => {
  assert.ok(isLoopback(parseIp('127.0.1.9')!));
  assert.ok(isLoopback(parseIp('::1')!));
  assert.ok(!isLoopback(parseIp('10.0.0.1')!));
  assert.ok(sameIp(parseIp('::ffff:10.0.0.1')!, parseIp('10.0.0.1')!));
});

test('property: an IPv4 address is in its own /n for every n, and the /n contains exactly the addresses sharing n bits', () => {
  fc.assert(fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (a, b, n) => {
    const range = cidr(a, n);
    assert.ok(cidrContains(range, parseIp(a)!));
    const wa = parseIp(a)!.words[0]!;
    const wb = parseIp(b)!.words[0]!;
    const shared = n === 0 || (wa >>> (32 - n)) === (wb >>> (32 - n));
    assert.equal(cidrContains(range, parseIp(b)!), shared);
  }));
});

test('property: every IPv6 text form parses to the same address as its canonical form (WHATWG URL)', () => {
  fc.assert(fc.property(fc.ipV6(), (a) => {
    const canonical = new URL(`http://[${a}]/`).hostname.slice(1, -1);
    assert.deepEqual(parseIp(a), parseIp(canonical), `${a} vs ${canonical}`);
    assert.ok(cidrContains(cidr(a, 128), parseIp(canonical)!));
  }));
});
