import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Proto } from '../core/contracts.ts';
import { FilterChainMatcher } from './filter-chain-match.ts';
import type { ConnectionFacts } from './filter-chain-match.ts';

function matcher(chains: Record<string, Proto | undefined>): FilterChainMatcher<string> {
  const problems: string[] = [];
  const m = FilterChainMatcher.compile(Object.entries(chains).map(([value, match]) => ({ match, value })), 'filterChains', problems);
  assert.deepEqual(problems, []);
  return m;
}

function conn(over: Partial<ConnectionFacts> = {}): ConnectionFacts {
  return { localAddress: '10.0.0.1', localPort: 443, remoteAddress: '10.1.0.9', remotePort: 40000, transport: 'raw_buffer', ...over };
}

test('selection table: ports, SNI (exact, wildcards, longest suffix), transport, ALPN', () => {
  const m = matcher({
    'port-443-tls': { destinationPort: { value: 443 }, transportProtocol: 'tls' },
    'port-443-exact': { destinationPort: { value: 443 }, serverNames: ['api.example.com'], transportProtocol: 'tls' },
    'port-443-wild': { destinationPort: { value: 443 }, serverNames: ['*.example.com'], transportProtocol: 'tls' },
    'port-443-deep-wild': { destinationPort: { value: 443 }, serverNames: ['*.eu.example.com'], transportProtocol: 'tls' },
    'port-443-raw': { destinationPort: { value: 443 }, transportProtocol: 'raw_buffer' },
    'h2': { destinationPort: { value: 8080 }, applicationProtocols: ['h2c', 'h2'] },
    'http1': { destinationPort: { value: 8080 }, applicationProtocols: ['http/1.1'] },
    'port-8080-other': { destinationPort: { value: 8080 } },
    'any-port': undefined,
  });
  const table: [Partial<ConnectionFacts>, string | undefined][] = [
    [{ serverName: 'api.example.com', transport: 'tls' }, 'port-443-exact'],
    [{ serverName: 'web.example.com', transport: 'tls' }, 'port-443-wild'],
    [{ serverName: 'a.b.example.com', transport: 'tls' }, 'port-443-wild'],
    [{ serverName: 'x.eu.example.com', transport: 'tls' }, 'port-443-deep-wild'],
    [{ serverName: 'example.com', transport: 'tls' }, 'port-443-tls'],
    [{ serverName: 'other.org', transport: 'tls' }, 'port-443-tls'],
    [{ transport: 'tls' }, 'port-443-tls'],
    [{ transport: 'raw_buffer' }, 'port-443-raw'],
    [{ localPort: 8080, alpn: ['h2'] }, 'h2'],
    [{ localPort: 8080, alpn: ['http/1.1'] }, 'http1'],
    [{ localPort: 8080, alpn: ['http/1.1', 'h2'] }, 'http1'],
    [{ localPort: 8080, alpn: ['spdy/3'] }, 'port-8080-other'],
    [{ localPort: 8080 }, 'port-8080-other'],
    [{ localPort: 9999, serverName: 'api.example.com', transport: 'tls' }, 'any-port'],
  ];
  for (const [facts, want] of table) assert.equal(m.find(conn(facts)), want, JSON.stringify(facts));
});

test('no backtracking: a port branch that misses further down does not fall back to port-less chains', () => {
  const m = matcher({
    'port-443-sni': { destinationPort: { value: 443 }, serverNames: ['a.example.com'] },
    'any-port-b': { serverNames: ['b.example.com'] },
  });
  assert.equal(m.find(conn({ serverName: 'a.example.com' })), 'port-443-sni');
  assert.equal(m.find(conn({ serverName: 'b.example.com' })), undefined, 'Envoy does not backtrack to the port-less branch');
  assert.equal(m.find(conn({ localPort: 80, serverName: 'b.example.com' })), 'any-port-b');
});

test('destination prefixes: longest prefix wins, then source ports', () => {
  const m = matcher({
    wide: { prefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: { value: 8 } }] },
    narrow: { prefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: { value: 24 } }], sourcePorts: [40000] },
    'narrow-any-port': { prefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: { value: 24 } }] },
    v6: { prefixRanges: [{ addressPrefix: '2001:db8::', prefixLen: { value: 32 } }] },
    rest: undefined,
  });
  assert.equal(m.find(conn({ localAddress: '10.9.9.9' })), 'wide');
  assert.equal(m.find(conn({ localAddress: '10.0.0.7', remotePort: 40000 })), 'narrow');
  assert.equal(m.find(conn({ localAddress: '10.0.0.7', remotePort: 1 })), 'narrow-any-port');
  assert.equal(m.find(conn({ localAddress: '::ffff:10.0.0.7', remotePort: 40000 })), 'narrow', 'IPv4-mapped destination');
  assert.equal(m.find(conn({ localAddress: '2001:db8:5::1' })), 'v6');
  assert.equal(m.find(conn({ localAddress: '172.16.0.1' })), 'rest');
});

test('source type, then source prefixes (no backtracking from the EXTERNAL branch to ANY)', () => {
  const m = matcher({
    local: { sourceType: 'SAME_IP_OR_LOOPBACK' },
    lab: { sourceType: 'EXTERNAL', sourcePrefixRanges: [{ addressPrefix: '192.168.0.0', prefixLen: { value: 16 } }] },
    any: { sourcePorts: [5] },
  });
  assert.equal(m.find(conn({ remoteAddress: '127.0.0.1' })), 'local');
  assert.equal(m.find(conn({ remoteAddress: '10.0.0.1' })), 'local', 'same IP as the destination counts as local');
  assert.equal(m.find(conn({ remoteAddress: '::1' })), 'local');
  assert.equal(m.find(conn({ remoteAddress: '192.168.4.4' })), 'lab');
  assert.equal(m.find(conn({ remoteAddress: '172.16.0.1', remotePort: 5 })), undefined, 'EXTERNAL branch chosen; its source range misses');
  const anyOnly = matcher({ local: { sourceType: 'SAME_IP_OR_LOOPBACK' }, any: { sourcePorts: [5] } });
  assert.equal(anyOnly.find(conn({ remoteAddress: '172.16.0.1', remotePort: 5 })), 'any');
});

test('server names match case-insensitively; an empty SNI takes the catch-all', () => {
  const m = matcher({ named: { serverNames: ['API.Example.com'] }, rest: { transportProtocol: 'tls' } });
  assert.equal(m.find(conn({ serverName: 'api.example.com', transport: 'tls' })), 'named');
  assert.equal(m.find(conn({ transport: 'tls' })), 'rest');
  assert.equal(m.find(conn({ transport: 'raw_buffer' })), undefined);
});

test('problems: duplicate rules (also through one shared value), partial wildcards, bad ports and ranges, all collected', () => {
  const problems: string[] = [];
  FilterChainMatcher.compile([
    { match: { serverNames: ['a.com', 'b.com'] }, value: 0 },
    { match: { serverNames: ['b.com', 'c.com'] }, value: 1 },
    { match: { serverNames: ['w*.example.com', '*'] }, value: 2 },
    { match: { destinationPort: { value: 70000 }, sourcePorts: [0] }, value: 3 },
    { match: { prefixRanges: [{ addressPrefix: 'example.com', prefixLen: { value: 8 } }, { addressPrefix: '10.0.0.0', prefixLen: { value: 40 } }] }, value: 4 },
    { match: { sourceType: 'NEARBY' }, value: 5 }, // invalid: not inserted, so it does not collide with 6
    { match: undefined, value: 6 },
    { match: {}, value: 7 },
  ], 'filterChains', problems);
  const text = problems.join('\n');
  assert.match(text, /filterChains\[1\]\.filterChainMatch: multiple filter chains with the same matching rules \(same as filterChains\[0\]\)/);
  assert.match(text, /filterChains\[2\]\.filterChainMatch\.serverNames: partial wildcards.*'w\*\.example\.com'/);
  assert.match(text, /filterChains\[2\]\.filterChainMatch\.serverNames: partial wildcards.*'\*'/);
  assert.match(text, /filterChains\[3\]\.filterChainMatch\.destinationPort: ports must be 1-65535 \(got 70000\)/);
  assert.match(text, /filterChains\[3\]\.filterChainMatch\.sourcePorts: ports must be 1-65535 \(got 0\)/);
  assert.match(text, /filterChains\[4\]\.filterChainMatch\.prefixRanges\[0\]: 'example\.com' is not an IP address/);
  assert.match(text, /filterChains\[4\]\.filterChainMatch\.prefixRanges\[1\]: prefix length 40 is out of range/);
  assert.match(text, /filterChains\[5\]\.filterChainMatch\.sourceType: must be one of ANY, SAME_IP_OR_LOOPBACK, EXTERNAL/);
  assert.match(text, /filterChains\[7\]\.filterChainMatch: multiple filter chains with the same matching rules \(same as filterChains\[6\]\)/);
});

test('equal ranges written differently are the same rule', () => {
  const problems: string[] = [];
  FilterChainMatcher.compile([
    { match: { prefixRanges: [{ addressPrefix: '10.1.2.3', prefixLen: { value: 8 } }] }, value: 0 },
    { match: { prefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: { value: 8 } }] }, value: 1 },
  ], 'filterChains', problems);
  assert.equal(problems.length, 1);
});
