import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { DnsOptions } from './dns-config.ts';
import type { DnsAnswer, DnsResolver } from './dns.ts';
import { systemResolver } from './dns.ts';
import type { Harness, Upstream } from './testing.ts';
import { clusterResource, eventually, get, harness, http1Upstream, idle, socketAddress } from './testing.ts';

/** A resolver whose answers the test scripts; each call is recorded and can be awaited. */
class ScriptedResolver implements DnsResolver {
  readonly answers = new Map<string, DnsAnswer | Error>();
  readonly calls: string[] = [];
  #waiters: (() => void)[] = [];

  resolve(name: string): Promise<DnsAnswer> {
    this.calls.push(name);
    for (const w of this.#waiters.splice(0)) w();
    const a = this.answers.get(name);
    return a === undefined ? Promise.reject(new Error('ENOTFOUND')) : a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  }

  /** Resolves after `n` more lookups have been made. */
  async lookups(n: number): Promise<void> {
    const target = this.calls.length + n;
    while (this.calls.length < target) await new Promise<void>((r) => this.#waiters.push(r));
  }
}

function dnsCluster(name: string, type: 'STRICT_DNS' | 'LOGICAL_DNS', host: string, port: number, extra: Record<string, unknown> = {}): ReturnType<typeof clusterResource> {
  return clusterResource({
    name, type, dnsLookupFamily: 'V4_ONLY',
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: socketAddress(host, port) }] }] },
    ...extra,
  });
}

const OPTIONS: DnsOptions = { family: 'V4_ONLY', refreshMs: 5000, respectTtl: false, failureBaseMs: 5000, failureMaxMs: 5000, resolvers: [] };

describe('DNS clusters', () => {
  let h: Harness | undefined;
  const upstreams: Upstream[] = [];
  afterEach(async () => {
    await h?.close();
    h = undefined;
    await Promise.all(upstreams.splice(0).map((u) => u.close()));
  });

  it('the system resolver reads /etc/hosts (localhost) and passes IP literals through', async () => {
    assert.deepEqual((await systemResolver.resolve('localhost', OPTIONS)).addresses, ['127.0.0.1']);
    assert.deepEqual(await systemResolver.resolve('10.1.2.3', OPTIONS), { addresses: ['10.1.2.3'] });
    await assert.rejects(systemResolver.resolve('no-such-host.invalid', OPTIONS));
  });

  it('STRICT_DNS resolves localhost in the background and serves requests to it', async () => {
    const u = await http1Upstream();
    upstreams.push(u);
    h = harness();
    const resolved = new Promise<string>((resolve) => h!.manager.onChange((n) => { if (h!.manager.cluster(n)?.dnsSettled === true) resolve(n); }));
    h.clusters([dnsCluster('local', 'STRICT_DNS', 'localhost', u.port)]);
    const c = h.manager.cluster('local')!;
    assert.equal(c.pick(), undefined, 'no hosts until DNS answers; applying CDS does not wait');
    assert.deepEqual(h.manager.warming(), ['local']);
    assert.equal(await resolved, 'local');
    assert.deepEqual(h.manager.warming(), []);
    assert.equal(c.counter('membership_total').value, 1);
    const host = c.pick()!;
    assert.deepEqual([host.address, host.port, host.hostname], ['127.0.0.1', u.port, 'localhost']);
    assert.deepEqual(await get(c.dispatcher(host), '/dns'), { status: 200, body: 'ok /dns' });
  });

  it('STRICT_DNS re-resolves every dns_refresh_rate, keeps pools of addresses that stay, keeps hosts when DNS fails', async () => {
    const u = await http1Upstream();
    upstreams.push(u);
    const dns = new ScriptedResolver();
    dns.answers.set('svc.example', { addresses: ['127.0.0.1'] });
    h = harness({ dns });
    h.clusters([dnsCluster('svc', 'STRICT_DNS', 'svc.example', u.port, { dnsRefreshRate: { nanos: 20_000_000 }, dnsFailureRefreshRate: { baseInterval: { nanos: 10_000_000 }, maxInterval: { nanos: 40_000_000 } } })]);
    const c = h.manager.cluster('svc')!;
    await eventually(() => c.hosts().length === 1);
    const d = c.dispatcher(c.pick()!);
    await get(d, '/a');
    await idle(d);
    dns.answers.set('svc.example', { addresses: ['127.0.0.1', '127.0.0.2'] });
    await eventually(() => c.hosts().length === 2);
    const same = c.hosts().find((x) => x.address === '127.0.0.1')!;
    assert.equal(c.dispatcher(same), d);
    await get(c.dispatcher(same), '/b');
    assert.equal(u.connections, 1);
    dns.answers.set('svc.example', new Error('SERVFAIL'));
    await dns.lookups(3);
    assert.equal(c.hosts().length, 2, 'a failed resolution keeps the last addresses');
  });

  it('a name that never resolves ends warming with no hosts, and keeps being retried', async () => {
    const dns = new ScriptedResolver();
    h = harness({ dns });
    const settled = new Promise<string>((resolve) => h!.manager.onChange((n) => { if (h!.manager.cluster(n)?.dnsSettled === true) resolve(n); }));
    h.clusters([dnsCluster('gone', 'STRICT_DNS', 'gone.example', 80, { dnsFailureRefreshRate: { baseInterval: { nanos: 5_000_000 }, maxInterval: { nanos: 20_000_000 } } })]);
    assert.equal(await settled, 'gone');
    assert.deepEqual(h.manager.warming(), []);
    assert.equal(h.manager.cluster('gone')?.pick(), undefined);
    await dns.lookups(3);
    dns.answers.set('gone.example', { addresses: ['10.9.9.9'] });
    await eventually(() => h!.manager.cluster('gone')?.pick()?.address === '10.9.9.9');
  });

  it('LOGICAL_DNS keeps one host whose connections survive address changes; new connections dial the new address', async () => {
    const u = await http1Upstream('0.0.0.0');
    upstreams.push(u);
    const dns = new ScriptedResolver();
    dns.answers.set('api.example', { addresses: ['127.0.0.1', '127.0.0.9'] });
    h = harness({ dns });
    h.clusters([dnsCluster('api', 'LOGICAL_DNS', 'api.example', u.port, { dnsRefreshRate: { nanos: 20_000_000 } })]);
    const c = h.manager.cluster('api')!;
    await eventually(() => c.hosts().length === 1);
    const first = c.pick()!;
    assert.equal(first.address, '127.0.0.1', 'only the first address');
    const d = c.dispatcher(first);
    const held = get(d, '/hold');
    await u.held();
    dns.answers.set('api.example', { addresses: ['127.0.0.2'] });
    await eventually(() => c.hosts()[0]?.address === '127.0.0.2');
    const moved = c.pick()!;
    assert.notEqual(moved, first);
    assert.equal(c.dispatcher(moved), d, 'the same logical host and pool');
    assert.equal(moved.state.dialAddress, '127.0.0.2');
    // The held request keeps its connection to the old address; a new connection goes to the new one.
    await get(d, '/two');
    u.release();
    await held;
    assert.deepEqual(u.localAddresses, ['127.0.0.1', '127.0.0.2']);
  });
});
