/**
 * End to end, as a user follows the README: `weft demo` (a real process: control plane, ingress
 * gateway, bookinfo's six workloads with their sidecars), then Istio's traffic-management tasks applied
 * with `weft apply -f` and Istio's own files (`samples/bookinfo/networking/`, byte for byte Istio's, see
 * test/fixtures/istio/bookinfo/), each outcome checked through the gateway with the login cookie flow:
 * request routing (all-v1, test-v2), fault injection (delay, abort), traffic shifting (50-v3, 80-20,
 * 90-10, v3), and request timeouts (Istio's inline steps as weft's files). Then Ctrl-C stops everything. The gateway gets a loopback address of its own (port 8080
 * as the README's, so a developer's demo on 127.0.0.1:8080 does not collide) and the control plane free
 * ports.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../src/cli/main.ts';
import { waitFor } from './support/control-process.ts';
import { freeLoopback } from './support/sidecars.ts';
import { BIN, ROOT } from './support/weft-cli.ts';

const NETWORKING = join(ROOT, 'samples', 'bookinfo', 'networking');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'istio', 'bookinfo');

/** What a product page shows, as Istio's tasks describe it. */
function pageKind(status: number, html: string): string {
  if (status !== 200) return `HTTP ${status}`;
  if (html.includes('Error fetching product reviews')) return 'reviews unavailable';
  const red = html.includes('<font color="red">');
  const black = html.includes('<font color="black">');
  if (red && black) return 'both colours';
  if (red) return 'v3 (red stars)';
  if (black) return 'v2 (black stars)';
  if (html.includes('Ratings service is currently unavailable')) return 'ratings unavailable';
  return html.includes('Book Reviews') ? 'v1 (no stars)' : 'no reviews section';
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function request(url: string, opts: { method?: string; cookie?: string; form?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.cookie !== undefined) headers.cookie = opts.cookie;
    if (opts.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const req = http.request(url, { method: opts.method ?? 'GET', headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.form);
  });
}

describe('weft demo: Istio\'s bookinfo tasks through the ingress gateway', { timeout: 90_000 }, () => {
  let demo: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;
  let page: string;
  let api: string;
  let jason: string;

  /** What `n` product pages showed (as `pageKind` names them), fetched `concurrency` at a time. */
  async function pages(n: number, cookie?: string, concurrency = 8): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    let left = n;
    const worker = async () => {
      while (left-- > 0) {
        const r = await request(page, cookie === undefined ? {} : { cookie });
        const kind = pageKind(r.status, r.body);
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return counts;
  }

  /**
   * `weft apply -f samples/bookinfo/networking/<file>` (the README's command; in-process for speed),
   * then waits until every sidecar has been sent config after it and ACKed all of it (proxy-status SYNCED).
   */
  async function apply(file: string, origin: 'istio' | 'weft' = 'istio'): Promise<void> {
    if (origin === 'istio') assert.equal(await readFile(join(NETWORKING, file), 'utf8'), await readFile(join(FIXTURES, file), 'utf8'), `${file} is Istio's, unchanged`);
    const since = Date.now();
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const code = await main(['node', 'weft', 'apply', '--control', api, '-f', join(NETWORKING, file)], { stdout: out, stderr: out, stdin: new PassThrough() });
    assert.equal(code, 0, text);
    assert.match(text, /(virtualservice|destinationrule)\.networking\.istio\.io\/\S+ (created|configured)/);
    await waitFor(`sidecars synced after ${file}`, async () => {
      const syncz = JSON.parse((await request(`http://${api}/debug/syncz`)).body) as { proxyId: string; types: Record<string, { versionSent?: string; versionAcked?: string; sentAt?: number }> }[];
      const sidecars = syncz.filter((s) => s.proxyId.startsWith('sidecar~'));
      const synced = sidecars.length === 6 && sidecars.every((s) => {
        const types = Object.values(s.types);
        return types.some((t) => (t.sentAt ?? 0) >= since) && types.every((t) => t.versionSent === t.versionAcked);
      });
      return synced ? true : undefined;
    });
  }

  before(async () => {
    const gateway = await freeLoopback(new Set(), [8080, 15000, 15021, 15090]);
    demo = spawn(process.execPath, [BIN, 'demo', '--xds', '127.0.0.1:0', '--http', '127.0.0.1:0', '--gateway-address', gateway], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    demo.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    exited = new Promise((r) => demo.once('exit', (code) => r(code)));
    await waitFor('the demo up', () => {
      if (demo.exitCode !== null) throw new Error(`weft demo exited (${demo.exitCode}):\n${output}`);
      return output.includes('Ctrl-C stops everything') ? true : undefined;
    }, 45_000);
    page = `http://${gateway}:8080/productpage`;
    api = /HTTP API http:\/\/([\d.]+:\d+)/.exec(output)![1]!;
  });

  after(async () => {
    agent.destroy();
    if (demo?.exitCode === null) {
      demo.kill('SIGTERM');
      await exited;
    }
  });

  it('starts the mesh, prints the start-up time, and serves the product page through the gateway', async () => {
    const up = /bookinfo is up in ([\d.]+) s/.exec(output);
    assert.ok(up, output);
    assert.ok(Number(up[1]) < 20, `start-up ${up[1]} s`);
    assert.ok(output.includes(`Product page      ${page}`), output);
    for (const w of ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1']) assert.match(output, new RegExp(`\\[${w}/proxy\\] weft run: sidecar ready`));
    const r = await request(page);
    assert.equal(r.status, 200);
    assert.match(r.body, /Book Details[\s\S]*Book Reviews/);
  });

  it('signs jason in with the login form (session cookie)', async () => {
    const login = await request(page.replace('/productpage', '/login'), { method: 'POST', form: 'username=jason&passwd=jason' });
    assert.equal(login.status, 302);
    const cookie = login.headers['set-cookie']?.[0]?.split(';')[0];
    assert.ok(cookie !== undefined && cookie.startsWith('session='), JSON.stringify(login.headers));
    jason = cookie;
    assert.match((await request(page, { cookie: jason })).body, /jason/);
  });

  it('request routing: virtual-service-all-v1.yaml → never stars', async () => {
    await apply('virtual-service-all-v1.yaml');
    assert.deepEqual(Object.fromEntries(await pages(30)), { 'v1 (no stars)': 30 });
    assert.deepEqual(Object.fromEntries(await pages(10, jason)), { 'v1 (no stars)': 10 });
  });

  it('request routing: virtual-service-reviews-test-v2.yaml → jason sees black stars, others none', async () => {
    await apply('virtual-service-reviews-test-v2.yaml');
    assert.deepEqual(Object.fromEntries(await pages(10, jason)), { 'v2 (black stars)': 10 });
    assert.deepEqual(Object.fromEntries(await pages(20)), { 'v1 (no stars)': 20 });
  });

  it('fault injection: virtual-service-ratings-test-delay.yaml → jason gets "Error fetching product reviews" after about 6 s', async () => {
    await apply('virtual-service-ratings-test-delay.yaml');
    const start = performance.now();
    const r = await request(page, { cookie: jason });
    const seconds = (performance.now() - start) / 1000;
    assert.equal(r.status, 200);
    assert.match(r.body, /Error fetching product reviews/);
    assert.ok(seconds > 5.5 && seconds < 8, `took ${seconds.toFixed(2)} s`);
  });

  it('fault injection: virtual-service-ratings-test-abort.yaml → jason gets "Ratings service is currently unavailable"', async () => {
    await apply('virtual-service-ratings-test-abort.yaml');
    assert.deepEqual(Object.fromEntries(await pages(10, jason)), { 'ratings unavailable': 10 });
    assert.deepEqual(Object.fromEntries(await pages(10)), { 'v1 (no stars)': 10 });
  });

  // Bounds: 4 standard deviations of the binomial count for 200 pages, so a correct split fails about
  // once in 15,000 runs, and a split off by the next task's share fails.
  it('traffic shifting: virtual-service-all-v1.yaml then virtual-service-reviews-50-v3.yaml → half red stars', async () => {
    await apply('virtual-service-all-v1.yaml');
    assert.deepEqual(Object.fromEntries(await pages(20)), { 'v1 (no stars)': 20 });
    await apply('virtual-service-reviews-50-v3.yaml');
    const counts = await pages(200);
    const red = counts.get('v3 (red stars)') ?? 0;
    assert.equal(red + (counts.get('v1 (no stars)') ?? 0), 200, JSON.stringify([...counts]));
    assert.ok(red >= 72 && red <= 128, `v3 on ${red} of 200 pages`);
  });

  it('virtual-service-reviews-80-20.yaml → about 20% black stars', async () => {
    await apply('virtual-service-reviews-80-20.yaml');
    const counts = await pages(200);
    const black = counts.get('v2 (black stars)') ?? 0;
    assert.equal(black + (counts.get('v1 (no stars)') ?? 0), 200, JSON.stringify([...counts]));
    assert.ok(black >= 18 && black <= 62, `v2 on ${black} of 200 pages`);
  });

  it('virtual-service-reviews-90-10.yaml → about 10% black stars', async () => {
    await apply('virtual-service-reviews-90-10.yaml');
    const counts = await pages(200);
    const black = counts.get('v2 (black stars)') ?? 0;
    assert.equal(black + (counts.get('v1 (no stars)') ?? 0), 200, JSON.stringify([...counts]));
    assert.ok(black >= 3 && black <= 37, `v2 on ${black} of 200 pages`);
  });

  it('virtual-service-reviews-v3.yaml → red stars for everyone', async () => {
    await apply('virtual-service-reviews-v3.yaml');
    assert.deepEqual(Object.fromEntries(await pages(20)), { 'v3 (red stars)': 20 });
    assert.deepEqual(Object.fromEntries(await pages(5, jason)), { 'v3 (red stars)': 5 });
  });

  /** One anonymous product page and how long it took, in seconds. */
  async function timedPage(): Promise<{ kind: string; body: string; seconds: number }> {
    const start = performance.now();
    const r = await request(page);
    return { kind: pageKind(r.status, r.body), body: r.body, seconds: (performance.now() - start) / 1000 };
  }

  it('request timeouts: reviews v2 with ratings delayed 2 s → the page takes about 2 s, black stars', async () => {
    await apply('virtual-service-reviews-v2-ratings-delay-2s.yaml', 'weft');
    const { kind, seconds } = await timedPage();
    assert.equal(kind, 'v2 (black stars)');
    assert.ok(seconds > 1.9 && seconds < 4, `took ${seconds.toFixed(2)} s`);
  });

  it('request timeouts: a 0.5 s timeout on reviews → "product reviews are currently unavailable" after about 1 s', async () => {
    await apply('virtual-service-reviews-v2-timeout.yaml', 'weft');
    const { kind, body, seconds } = await timedPage();
    assert.equal(kind, 'reviews unavailable');
    assert.match(body, /Sorry, product reviews are currently unavailable for this book\./);
    assert.ok(seconds > 0.9 && seconds < 2.5, `took ${seconds.toFixed(2)} s`);
  });

  it('circuit breaking: destination-rule-productpage-circuit-breaker.yaml → concurrent requests beyond the limits get 503 (UO)', async () => {
    await apply('destination-rule-productpage-circuit-breaker.yaml', 'weft');
    const burst = async () => {
      const replies = await Promise.all(Array.from({ length: 12 }, () => new Promise<{ status: number; error: string; overloaded?: string }>((resolve) => {
        // A connection each (no keep-alive agent): the gateway sees them at once.
        http.get(page, { agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, error: String(res.headers['x-weft-error'] ?? ''), overloaded: res.headers['x-envoy-overloaded'] as string | undefined }));
        }).on('error', () => resolve({ status: 0, error: 'connection failed' }));
      })));
      return replies;
    };
    // The gateway takes the rule a moment after the sidecars: a burst until the breaker shows.
    const replies = await waitFor('the circuit breaker to open', async () => {
      const r = await burst();
      return r.some((x) => x.status === 503) ? r : undefined;
    }, 15_000);
    assert.ok(replies.some((r) => r.status === 200), 'requests within the limits still pass');
    assert.ok(replies.filter((r) => r.status === 503).every((r) => /upstream overflow \(circuit breaker open\) in outbound\|9080\|\|productpage/.test(r.error) && r.overloaded === 'true'), JSON.stringify(replies));
    assert.ok(replies.every((r) => r.status === 200 || r.status === 503), JSON.stringify(replies));
    await apply('destination-rule-all.yaml');
  });

  it('Ctrl-C stops everything: apps, sidecars, gateway, control plane', async () => {
    demo.kill('SIGINT');
    assert.equal(await exited, 0, output);
    assert.match(output, /weft demo: SIGINT, stopping/);
    assert.match(output, /weft demo: stopped/);
    // On failure, show the lifecycle lines (the whole output is mostly request logs).
    const lifecycle = output.split('\n').filter((l) => !/\] (GET|POST) \//.test(l)).slice(-60).join('\n');
    for (const w of ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1']) assert.match(output, new RegExp(`\\[${w}/proxy\\] weft run: app exited with code 0`), lifecycle);
    // An app names what it had to cut when its grace ran out: nothing may be left hanging.
    assert.doesNotMatch(output, /still in flight/, lifecycle);
    const [host, port] = api.split(':');
    assert.equal(await new Promise((resolve) => net.connect(Number(port), host).once('connect', () => resolve(true)).once('error', () => resolve(false))), false);
  });
});
