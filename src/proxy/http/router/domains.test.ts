/**
 * Virtual host selection by authority, case by case from Envoy's documentation of
 * `VirtualHost.domains` (search order, wildcards that never match an empty part, uniqueness) and the
 * behaviour of `RouteMatcher::findVirtualHost` (case-insensitive, port as part of the authority unless
 * `ignore_port_in_host_matching`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteConfiguration } from './compile.ts';
import { selectRoute } from './select.ts';
import { compiled, request } from './testing.ts';

const vh = (name: string, ...domains: string[]) => ({ name, domains, routes: [{ match: { prefix: '/' }, route: { cluster: name } }] });

function hostOf(config: ReturnType<typeof compiled>, authority: string | undefined): string | undefined {
  const d = selectRoute(config, request({ authority }));
  return d.kind === 'no_virtual_host' ? undefined : d.virtualHost.name;
}

describe('virtual host domains', () => {
  const config = compiled({
    name: 'r',
    virtualHosts: [
      vh('exact', 'www.foo.com', 'reviews:9080', 'API.Example.com'),
      vh('suffix', '*.foo.com'),
      vh('suffix-longer', '*-bar.foo.com'),
      vh('suffix-port', '*.svc:9080'),
      vh('prefix', 'foo.*'),
      vh('prefix-longer', 'foo-bar.*'),
      vh('any', '*'),
    ],
  });

  const cases: [authority: string, expected: string][] = [
    ['www.foo.com', 'exact'],
    ['WWW.Foo.COM', 'exact'], // case-insensitive
    ['api.example.com', 'exact'], // domains are lower-cased too
    ['bar.foo.com', 'suffix'],
    ['a.b.foo.com', 'suffix'], // a suffix wildcard spans labels
    ['baz-bar.foo.com', 'suffix-longer'], // the longest suffix wins
    ['-bar.foo.com', 'suffix'], // `*-bar.foo.com` needs a non-empty part; `*.foo.com` takes it
    ['.foo.com', 'any'], // `*.foo.com` does not match `.foo.com`
    ['foo.com', 'prefix'], // not `*.foo.com`; the prefix wildcard `foo.*` takes it
    ['foo.example.org', 'prefix'],
    ['foo-bar.example.org', 'prefix-longer'], // the longest prefix wins
    ['foo.', 'any'], // `foo.*` needs a non-empty part
    ['foo.bar.foo.com', 'suffix'], // suffix wildcards are searched before prefix wildcards
    ['reviews:9080', 'exact'], // the port is part of the authority
    ['reviews', 'any'],
    ['reviews:9081', 'any'],
    ['ratings.default.svc:9080', 'suffix-port'],
    ['ratings.default.svc', 'any'],
    ['unknown.example', 'any'],
    ['', 'any'],
  ];
  for (const [authority, expected] of cases) {
    it(`${JSON.stringify(authority)} → ${expected}`, () => assert.equal(hostOf(config, authority), expected));
  }

  it('gives the same answer from the per-authority cache and after the cache is cleared', () => {
    for (let i = 0; i < 5000; i++) assert.equal(hostOf(config, `h${i}.foo.com`), 'suffix');
    assert.equal(hostOf(config, 'WWW.Foo.COM'), 'exact');
    assert.equal(hostOf(config, 'WWW.Foo.COM'), 'exact');
  });
});

describe('virtual host selection edge cases', () => {
  it('without `*`, an unknown authority has no virtual host (NR)', () => {
    const config = compiled({ virtualHosts: [vh('a', 'a.com')] });
    assert.equal(hostOf(config, 'b.com'), undefined);
    assert.deepEqual(selectRoute(config, request({ authority: 'b.com' })), { kind: 'no_virtual_host' });
  });

  it('a request without an authority reaches only a configuration whose sole domain is `*`', () => {
    assert.equal(hostOf(compiled({ virtualHosts: [vh('any', '*')] }), undefined), 'any');
    assert.equal(hostOf(compiled({ virtualHosts: [vh('a', 'a.com'), vh('any', '*')] }), undefined), undefined);
  });

  it('ignore_port_in_host_matching drops the port, bracketed IPv6 literals included', () => {
    const config = compiled({ ignorePortInHostMatching: true, virtualHosts: [vh('reviews', 'reviews'), vh('v6', '[::1]'), vh('any', '*')] });
    assert.equal(hostOf(config, 'reviews:9080'), 'reviews');
    assert.equal(hostOf(config, 'reviews'), 'reviews');
    assert.equal(hostOf(config, '[::1]:8080'), 'v6');
    assert.equal(hostOf(config, '[::1]'), 'v6');
  });

  it('rejects duplicate domains (case-insensitively) and a second `*`, naming each offending entry', () => {
    const { problems } = compileRouteConfiguration({
      virtualHosts: [vh('a', 'a.com', '*.b.com', '*'), vh('b', 'A.COM', '*.B.com', 'c.*'), vh('c', 'c.*', '*')],
    });
    assert.deepEqual(problems, [
      'virtualHosts[1].domains[0]: duplicate domain "A.COM": domains must be unique across virtual hosts',
      'virtualHosts[1].domains[1]: duplicate domain "*.B.com": domains must be unique across virtual hosts',
      'virtualHosts[2].domains[0]: duplicate domain "c.*": domains must be unique across virtual hosts',
      'virtualHosts[2].domains[1]: only one virtual host may have the wildcard domain "*"',
    ]);
  });

  it('requires a name and at least one domain', () => {
    const { problems } = compileRouteConfiguration({ virtualHosts: [{ routes: [] }] });
    assert.deepEqual(problems, ['virtualHosts[0].name: required', 'virtualHosts[0].domains: at least one domain required']);
  });
});
