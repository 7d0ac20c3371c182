/**
 * Header mutations: `append_action` semantics, removal before addition, values computed against the
 * headers as they were before the level's additions, the level order (weighted cluster → route →
 * virtual host → route configuration, later wins; reversed with most_specific_header_mutations_wins),
 * substitution formats, and the headers that may not be touched.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteConfiguration } from './compile.ts';
import { applyHeaderMutations, type MutableHeaders } from './header-mutations.ts';
import { selectRoute } from './select.ts';
import { compiled, request } from './testing.ts';

class Headers implements MutableHeaders {
  readonly map = new Map<string, string[]>();
  constructor(init: Record<string, string | string[]> = {}) {
    for (const [k, v] of Object.entries(init)) this.map.set(k, typeof v === 'string' ? [v] : [...v]);
  }
  has(name: string): boolean { return this.map.has(name); }
  set(name: string, value: string): void { this.map.set(name, [value]); }
  append(name: string, value: string): void { this.map.set(name, [...(this.map.get(name) ?? []), value]); }
  remove(name: string): void { this.map.delete(name); }
  get record(): Record<string, string[]> { return Object.fromEntries(this.map); }
}

type Option = { key: string; value: string; action?: string; keep?: boolean; append?: boolean };
const opt = (o: Option) => ({
  header: { key: o.key, value: o.value },
  ...(o.action !== undefined ? { appendAction: o.action } : {}),
  ...(o.keep !== undefined ? { keepEmptyValue: o.keep } : {}),
  ...(o.append !== undefined ? { append: { value: o.append } } : {}),
});

/** Request mutations of the only route of a config with the given levels, applied to `init`. */
function run(levels: { rc?: Record<string, unknown>; vh?: Record<string, unknown>; route?: Record<string, unknown> }, init: Record<string, string | string[]>, extra: Record<string, unknown> = {}): Record<string, string[]> {
  const config = compiled({
    ...levels.rc, ...extra,
    virtualHosts: [{ name: 'vh', domains: ['*'], ...levels.vh, routes: [{ match: { prefix: '/' }, route: { cluster: 'c' }, ...levels.route }] }],
  });
  const d = selectRoute(config, request());
  assert.ok(d.kind === 'route');
  const h = new Headers(init);
  applyHeaderMutations(d.target.requestHeaders, h);
  return h.record;
}

const route = (...options: Option[]) => ({ route: { requestHeadersToAdd: options.map(opt) } });

describe('append_action', () => {
  it('APPEND_IF_EXISTS_OR_ADD (the default) adds a value', () => {
    assert.deepEqual(run(route({ key: 'x', value: 'new' }), { x: 'old' }), { x: ['old', 'new'] });
    assert.deepEqual(run(route({ key: 'x', value: 'new' }), {}), { x: ['new'] });
  });

  it('ADD_IF_ABSENT adds only when absent', () => {
    assert.deepEqual(run(route({ key: 'x', value: 'new', action: 'ADD_IF_ABSENT' }), { x: 'old' }), { x: ['old'] });
    assert.deepEqual(run(route({ key: 'x', value: 'new', action: 'ADD_IF_ABSENT' }), {}), { x: ['new'] });
  });

  it('OVERWRITE_IF_EXISTS_OR_ADD replaces every value or adds', () => {
    assert.deepEqual(run(route({ key: 'x', value: 'new', action: 'OVERWRITE_IF_EXISTS_OR_ADD' }), { x: ['a', 'b'] }), { x: ['new'] });
    assert.deepEqual(run(route({ key: 'x', value: 'new', action: 'OVERWRITE_IF_EXISTS_OR_ADD' }), {}), { x: ['new'] });
  });

  it('OVERWRITE_IF_EXISTS replaces only what is there', () => {
    assert.deepEqual(run(route({ key: 'x', value: 'new', action: 'OVERWRITE_IF_EXISTS' }), { x: 'old' }), { x: ['new'] });
    assert.deepEqual(run(route({ key: 'x', value: 'new', action: 'OVERWRITE_IF_EXISTS' }), {}), {});
  });

  it('the deprecated append flag: true appends, false overwrites', () => {
    assert.deepEqual(run(route({ key: 'x', value: 'new', append: true }), { x: 'old' }), { x: ['old', 'new'] });
    assert.deepEqual(run(route({ key: 'x', value: 'new', append: false }), { x: 'old' }), { x: ['new'] });
  });

  it('an empty value is skipped unless keep_empty_value', () => {
    assert.deepEqual(run(route({ key: 'x', value: '' }), {}), {});
    assert.deepEqual(run(route({ key: 'x', value: '', keep: true }), {}), { x: [''] });
  });

  it('conditions see the headers before the level\'s additions; overwrites land before appends', () => {
    const r = route({ key: 'x', value: 'appended' }, { key: 'x', value: 'set', action: 'OVERWRITE_IF_EXISTS_OR_ADD' }, { key: 'y', value: 'y1', action: 'OVERWRITE_IF_EXISTS_OR_ADD' }, { key: 'y', value: 'y2', action: 'ADD_IF_ABSENT' });
    assert.deepEqual(run(r, {}), { x: ['set', 'appended'], y: ['y1', 'y2'] });
  });

  it('removals happen before additions of the same level', () => {
    assert.deepEqual(run({ route: { requestHeadersToRemove: ['x'], requestHeadersToAdd: [opt({ key: 'x', value: 'new', action: 'ADD_IF_ABSENT' })] } }, { x: 'old' }), { x: ['new'] });
  });
});

describe('levels', () => {
  const levels = {
    rc: { requestHeadersToAdd: [opt({ key: 'x', value: 'rc', action: 'OVERWRITE_IF_EXISTS_OR_ADD' })] },
    vh: { requestHeadersToAdd: [opt({ key: 'x', value: 'vh', action: 'OVERWRITE_IF_EXISTS_OR_ADD' })] },
    route: { requestHeadersToAdd: [opt({ key: 'x', value: 'route', action: 'OVERWRITE_IF_EXISTS_OR_ADD' })] },
  };

  it('route, then virtual host, then route configuration: the least specific write wins by default', () => {
    assert.deepEqual(run(levels, {}), { x: ['rc'] });
  });

  it('most_specific_header_mutations_wins reverses the order', () => {
    assert.deepEqual(run(levels, {}, { mostSpecificHeaderMutationsWins: true }), { x: ['route'] });
  });

  it('appends accumulate in level order', () => {
    const appending = {
      rc: { requestHeadersToAdd: [opt({ key: 'x', value: 'rc' })] },
      vh: { requestHeadersToAdd: [opt({ key: 'x', value: 'vh' })] },
      route: { requestHeadersToAdd: [opt({ key: 'x', value: 'route' })] },
    };
    assert.deepEqual(run(appending, {}), { x: ['route', 'vh', 'rc'] });
  });

  it('response mutations follow the same order and reach redirects and direct responses', () => {
    const config = compiled({
      responseHeadersToAdd: [opt({ key: 'x-rc', value: '1' })],
      virtualHosts: [{
        name: 'vh', domains: ['*'], responseHeadersToRemove: ['server'],
        routes: [{ match: { prefix: '/' }, directResponse: { status: 503 }, responseHeadersToAdd: [opt({ key: 'x-weft-error', value: 'no service', action: 'OVERWRITE_IF_EXISTS_OR_ADD' })] }],
      }],
    });
    const d = selectRoute(config, request());
    assert.ok(d.kind === 'direct_response');
    const h = new Headers({ server: 'upstream' });
    applyHeaderMutations(d.route.target.responseHeaders, h);
    assert.deepEqual(h.record, { 'x-weft-error': ['no service'], 'x-rc': ['1'] });
  });
});

describe('substitution formats and forbidden headers', () => {
  it('evaluates %COMMAND% through the connection manager and unescapes %%', () => {
    const config = compiled({ virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' }, requestHeadersToAdd: [opt({ key: 'x-client', value: 'ip=%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% 100%% %REQ(x-id):3%' })] }] }] });
    const d = selectRoute(config, request());
    assert.ok(d.kind === 'route');
    const h = new Headers();
    applyHeaderMutations(d.target.requestHeaders, h, (c) => (c.name === 'REQ' ? `id-${c.arg}` : '10.0.0.1'));
    assert.deepEqual(h.record, { 'x-client': ['ip=10.0.0.1 100% id-'] });
  });

  it('reports unknown commands, malformed expressions, pseudo-headers and host', () => {
    const { problems } = compileRouteConfiguration({
      requestHeadersToRemove: [':path', 'Host'],
      virtualHosts: [{
        name: 'vh', domains: ['*'],
        requestHeadersToAdd: [opt({ key: 'x-a', value: '%NO_SUCH_THING%' }), opt({ key: 'x-b', value: '50%' }), opt({ key: ':authority', value: 'x' })],
        routes: [{ match: { prefix: '/' }, route: { cluster: 'c' }, requestHeadersToAdd: [{ ...opt({ key: 'x', value: 'v', append: true }), appendAction: 'ADD_IF_ABSENT' }] }],
      }],
    });
    assert.deepEqual(problems, [
      'requestHeadersToRemove[0]: ":path": :-prefixed or host headers may not be removed',
      'requestHeadersToRemove[1]: "Host": :-prefixed or host headers may not be removed',
      'virtualHosts[0].requestHeadersToAdd[0].header.value: unknown substitution command %NO_SUCH_THING% in "%NO_SUCH_THING%"',
      'virtualHosts[0].requestHeadersToAdd[1].header.value: invalid substitution format in "50%" at position 2 (write %% for a literal %)',
      'virtualHosts[0].requestHeadersToAdd[2].header.key: ":authority": :-prefixed or host headers may not be modified',
      'virtualHosts[0].routes[0].requestHeadersToAdd[0].append: both append and append_action are set',
    ]);
  });
});
