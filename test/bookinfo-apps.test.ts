/**
 * End-to-end test of weft's bookinfo apps (`samples/bookinfo/`): productpage, details, reviews v1/v2/v3
 * and ratings run as real processes, and every outbound call they make goes through a recording HTTP
 * proxy in this file, given to them as `HTTP_PROXY` with `NODE_USE_ENV_PROXY=1` exactly as `weft run`
 * points them at their sidecar. The proxy resolves Istio's service names (`details`, `reviews`,
 * `ratings`) to the apps, can fail or stall a service, and records what arrived, so the tests see the
 * mesh-side view: absolute-form requests, trace headers, `end-user`, retries.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serviceBaseUrl } from '../samples/bookinfo/lib/env.ts';

const APPS_DIR = join(import.meta.dirname, '..', 'samples', 'bookinfo');

type Behaviour = { readonly port: number } | { readonly status: number } | { readonly stall: true };

interface Seen {
  readonly host: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

/** A sidecar stand-in: an HTTP proxy that only accepts absolute-form requests and records them. */
class RecordingProxy {
  readonly routes = new Map<string, Behaviour>();
  seen: Seen[] = [];
  readonly #stalled = new Set<ServerResponse>();
  readonly #agent = new Agent({ keepAlive: true });
  readonly #server: Server = createServer((req, res) => this.#handle(req, res));
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  to(host: string): Seen[] {
    return this.seen.filter((s) => s.host === host);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = (req.url ?? '').startsWith('http://') ? URL.parse(req.url ?? '') : null;
    if (url === null) {
      res.writeHead(400).end(`not absolute-form: ${req.url}`);
      return;
    }
    this.seen.push({ host: url.host, path: url.pathname, headers: req.headers });
    const behaviour = this.routes.get(url.hostname);
    if (behaviour === undefined) res.writeHead(502).end(`no route to ${url.hostname}`);
    else if ('status' in behaviour) res.writeHead(behaviour.status, { 'content-type': 'text/plain' }).end('fault filter abort');
    else if ('stall' in behaviour) this.#stall(res);
    else this.#forward(req, res, behaviour.port, url.pathname + url.search);
  }

  #stall(res: ServerResponse): void {
    this.#stalled.add(res);
    res.once('close', () => this.#stalled.delete(res));
  }

  #forward(req: IncomingMessage, res: ServerResponse, port: number, path: string): void {
    const { 'proxy-connection': _, ...headers } = req.headers;
    const upstream = request({ host: '127.0.0.1', port, path, method: req.method, headers, agent: this.#agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    for (const res of this.#stalled) res.destroy();
    this.#agent.destroy();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

interface App {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
}

function childEnv(proxyPort: number, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(https?|no|all)_proxy$/i.test(k) || /^(SERVICES_DOMAIN|\w+_HOSTNAME|\w+_SERVICE_PORT|ENABLE_RATINGS|STAR_COLOR|CLUSTER_NAME|SERVICE_VERSION)$/.test(k)) delete env[k];
  const proxy = `http://127.0.0.1:${proxyPort}`;
  return { ...env, PORT: '0', HTTP_PROXY: proxy, NO_PROXY: 'localhost,127.0.0.1,::1', NODE_USE_ENV_PROXY: '1', ...extra };
}

/** Starts `samples/bookinfo/<script>` on a free port (PORT=0) and waits for its listening line. */
function startApp(script: string, name: string, proxyPort: number, extra: Record<string, string> = {}): Promise<App> {
  const child = spawn(process.execPath, [join(APPS_DIR, script)], { env: childEnv(proxyPort, extra), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      output += d.toString();
      const m = new RegExp(`^${script.replace('.ts', '')} listening on 127\\.0\\.0\\.1:(\\d+)$`, 'm').exec(output);
      if (m) resolve({ name, port: Number(m[1]), url: `http://127.0.0.1:${m[1]}`, child, output: () => output });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening:\n${output}`)));
  });
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** The `<font color=…>` star groups of a product page, e.g. [{color:'black', full:5, empty:0}, …]. */
function starGroups(html: string): { color: string; full: number; empty: number }[] {
  return [...html.matchAll(/<font color="([^"]*)">(.*?)<\/font>/gs)].map((m) => ({
    color: m[1]!,
    full: m[2]!.split('glyphicon-star"').length - 1,
    empty: m[2]!.split('glyphicon-star-empty"').length - 1,
  }));
}

describe('bookinfo apps behind a recording mesh proxy', () => {
  const proxy = new RecordingProxy();
  const apps: Record<'productpage' | 'details' | 'ratings' | 'v1' | 'v2' | 'v3', App> = {} as never;

  const route = (reviews: 'v1' | 'v2' | 'v3', overrides: Record<string, Behaviour> = {}): void => {
    proxy.seen = [];
    proxy.routes.clear();
    proxy.routes.set('details', { port: apps.details.port });
    proxy.routes.set('reviews', { port: apps[reviews].port });
    proxy.routes.set('ratings', { port: apps.ratings.port });
    for (const [host, b] of Object.entries(overrides)) proxy.routes.set(host, b);
  };
  const productpage = (headers: Record<string, string> = {}) => get(`${apps.productpage.url}/productpage`, headers);

  before(async () => {
    await proxy.start();
    const p = proxy.port;
    const started = await Promise.all([
      startApp('productpage.ts', 'productpage', p, { POD_NAME: 'productpage-v1' }),
      startApp('details.ts', 'details', p),
      startApp('ratings.ts', 'ratings', p),
      startApp('reviews.ts', 'v1', p, { POD_NAME: 'reviews-v1', ENABLE_RATINGS: 'false' }),
      startApp('reviews.ts', 'v2', p, { POD_NAME: 'reviews-v2', ENABLE_RATINGS: 'true', STAR_COLOR: 'black' }),
      startApp('reviews.ts', 'v3', p, { POD_NAME: 'reviews-v3', ENABLE_RATINGS: 'true', STAR_COLOR: 'red', CLUSTER_NAME: 'east' }),
    ]);
    for (const app of started) apps[app.name as keyof typeof apps] = app;
  });

  after(async () => {
    for (const app of Object.values(apps)) if (app.child.exitCode === null) app.child.kill('SIGKILL');
    await proxy.close();
  });

  test('every app serves /health as Istio\'s do and logs one line per request', async () => {
    const expected = { productpage: 'Product page', details: 'Details', ratings: 'Ratings', v1: 'Reviews' } as const;
    for (const [app, subject] of Object.entries(expected)) {
      const res = await get(`${apps[app as keyof typeof expected].url}/health`);
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.text), { status: `${subject} is healthy` });
    }
    assert.match(apps.details.output(), /^GET \/health 200 \d+\.\dms$/m);
  });

  test('productpage with reviews v1 shows the book details and reviews without stars', async () => {
    route('v1');
    const res = await productpage();
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(res.text, /The Comedy of Errors/);
    assert.match(res.text, /<h4>Book Details<\/h4>/);
    assert.match(res.text, /<dt>Type:<\/dt><dd>paperback<\/dd>/);
    assert.match(res.text, /<dt>ISBN-13:<\/dt><dd>123-1234567890<\/dd>/);
    assert.match(res.text, /<h4>Book Reviews<\/h4>/);
    assert.match(res.text, /An extremely entertaining play by Shakespeare/);
    assert.deepEqual(starGroups(res.text), []);
    assert.doesNotMatch(res.text, /<(script|link)\b/, 'the page is self-contained');
    // Through the proxy, in absolute form, to Istio's host names; v1 never calls ratings.
    assert.deepEqual(proxy.seen.map((s) => `${s.host}${s.path}`), ['details:9080/details/0', 'reviews:9080/reviews/0']);
  });

  test('reviews v2 gives black stars and v3 red stars, asking ratings through the proxy', async () => {
    for (const [version, color] of [['v2', 'black'], ['v3', 'red']] as const) {
      route(version);
      const res = await productpage();
      assert.equal(res.status, 200);
      assert.deepEqual(starGroups(res.text), [{ color, full: 5, empty: 0 }, { color, full: 4, empty: 1 }], version);
      assert.deepEqual(proxy.to('ratings:9080').map((s) => s.path), ['/ratings/0'], version);
    }
  });

  test('reviews JSON has Istio\'s shape: v1 without rating, v2 black, v3 red, pod and cluster names', async () => {
    route('v1');
    const texts = [
      'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!',
      'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.',
    ];
    const v1 = JSON.parse((await get(`${apps.v1.url}/reviews/0`)).text);
    assert.deepEqual(v1, { id: '0', podname: 'reviews-v1', clustername: 'null', reviews: [{ reviewer: 'Reviewer1', text: texts[0] }, { reviewer: 'Reviewer2', text: texts[1] }] });
    const v2 = JSON.parse((await get(`${apps.v2.url}/reviews/0`)).text);
    assert.deepEqual(v2.reviews.map((r: { rating: unknown }) => r.rating), [{ stars: 5, color: 'black' }, { stars: 4, color: 'black' }]);
    const v3 = JSON.parse((await get(`${apps.v3.url}/reviews/7`)).text);
    assert.equal(v3.id, '7');
    assert.equal(v3.clustername, 'east');
    assert.deepEqual(v3.reviews.map((r: { rating: unknown }) => r.rating), [{ stars: 5, color: 'red' }, { stars: 4, color: 'red' }]);
    assert.equal((await get(`${apps.v1.url}/reviews/abc`)).status, 404);
  });

  test('login sets the session cookie; end-user: jason then reaches reviews and ratings; logout clears it', async () => {
    route('v2');
    const login = await fetch(`${apps.productpage.url}/login`, { method: 'POST', body: new URLSearchParams({ username: 'jason', passwd: 'x' }), redirect: 'manual' });
    assert.equal(login.status, 302);
    assert.equal(login.headers.get('location'), '/productpage');
    const setCookie = login.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^session=jason; Path=\/; HttpOnly/);
    const cookie = setCookie.split(';')[0]!;

    const page = await productpage({ cookie });
    assert.match(page.text, /<span class="user">jason \( <a href="logout">sign out<\/a> \)<\/span>/);
    for (const host of ['details:9080', 'reviews:9080', 'ratings:9080']) {
      assert.deepEqual(proxy.to(host).map((s) => s.headers['end-user']), ['jason'], host);
    }
    proxy.seen = [];
    await get(`${apps.productpage.url}/api/v1/products/0/reviews`, { cookie });
    await get(`${apps.productpage.url}/api/v1/products/0/ratings`, { cookie });
    assert.deepEqual(proxy.seen.map((s) => `${s.host}${s.path} ${s.headers['end-user']}`), ['reviews:9080/reviews/0 jason', 'ratings:9080/ratings/0 jason', 'ratings:9080/ratings/0 jason']);

    // Without a session, a client-sent end-user is not passed on: only productpage's session names the user.
    proxy.seen = [];
    const anonymous = await productpage({ 'end-user': 'jason' });
    assert.match(anonymous.text, /name="login_form"/);
    assert.ok(proxy.seen.every((s) => s.headers['end-user'] === undefined));

    const logout = await get(`${apps.productpage.url}/logout`, { cookie });
    assert.equal(logout.status, 302);
    assert.match(logout.headers.get('set-cookie') ?? '', /^session=; Path=\/; Max-Age=0/);
  });

  test('trace headers go from productpage to details and reviews, and from reviews to ratings', async () => {
    route('v3');
    const trace = {
      'x-request-id': 'req-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'weft=1',
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid': 'e457b5a2e4d86bd1',
      'x-b3-parentspanid': '05e3ac9a4f6e3b90',
      'x-b3-sampled': '1',
      'x-b3-flags': '0',
      b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
      'x-ot-span-context': 'ot',
      'x-datadog-trace-id': '1',
    };
    await productpage({ ...trace, 'x-not-forwarded': 'no' });
    assert.deepEqual(proxy.seen.map((s) => s.host), ['details:9080', 'reviews:9080', 'ratings:9080']);
    for (const s of proxy.seen) {
      for (const [name, value] of Object.entries(trace)) assert.equal(s.headers[name], value, `${name} to ${s.host}`);
      assert.equal(s.headers['x-not-forwarded'], undefined);
    }
  });

  test('ratings failing: v2 reviews carry Istio\'s unavailable error and productpage still answers 200', async () => {
    route('v2', { ratings: { status: 503 } });
    const res = await productpage();
    assert.equal(res.status, 200);
    assert.equal(res.text.split('<p><i>Ratings service is currently unavailable</i></p>').length - 1, 2);
    assert.deepEqual(starGroups(res.text), []);
    const json = JSON.parse((await get(`${apps.v2.url}/reviews/0`)).text);
    assert.deepEqual(json.reviews.map((r: { rating: unknown }) => r.rating), [{ error: 'Ratings service is currently unavailable' }, { error: 'Ratings service is currently unavailable' }]);
  });

  test('reviews failing: productpage retries once, then shows Istio\'s reviews error; the API passes the status on', async () => {
    route('v1', { reviews: { status: 503 } });
    const res = await productpage();
    assert.equal(res.status, 200);
    assert.match(res.text, /<h4>Error fetching product reviews!<\/h4>\n<p>Sorry, product reviews are currently unavailable for this book\.<\/p>/);
    assert.match(res.text, /<h4>Book Details<\/h4>/);
    assert.equal(proxy.to('reviews:9080').length, 2, 'one retry');
    const api = await get(`${apps.productpage.url}/api/v1/products/0/reviews`);
    assert.equal(api.status, 503);
    assert.deepEqual(JSON.parse(api.text), { error: 'Sorry, product reviews are currently unavailable for this book.' });
  });

  test('details failing: productpage shows Istio\'s details error after one attempt, as Istio\'s does', async () => {
    route('v1', { details: { status: 503 } });
    const res = await productpage();
    assert.equal(res.status, 200);
    assert.match(res.text, /<h4>Error fetching product details!<\/h4>\n<p>Sorry, product details are currently unavailable for this book\.<\/p>/);
    assert.match(res.text, /<h4>Book Reviews<\/h4>/);
    assert.equal(proxy.to('details:9080').length, 1);
  });

  test('deadlines: productpage gives up on a stalled details after 3 s, reviews v3 on stalled ratings after 2.5 s', async () => {
    route('v1', { details: { stall: true }, ratings: { stall: true } });
    const timed = async <T>(work: Promise<T>) => {
      const start = performance.now();
      const result = await work;
      return { result, ms: performance.now() - start };
    };
    const [page, reviews] = await Promise.all([timed(productpage()), timed(get(`${apps.v3.url}/reviews/0`))]);
    assert.match(page.result.text, /Error fetching product details!/);
    assert.match(page.result.text, /<h4>Book Reviews<\/h4>/);
    assert.ok(page.ms >= 2900 && page.ms < 5000, `productpage took ${page.ms.toFixed(0)} ms`);
    assert.equal(proxy.to('details:9080').length, 1);
    assert.equal(reviews.result.status, 200);
    assert.deepEqual(JSON.parse(reviews.result.text).reviews[0].rating, { error: 'Ratings service is currently unavailable' });
    assert.ok(reviews.ms >= 2400 && reviews.ms < 4000, `reviews v3 took ${reviews.ms.toFixed(0)} ms`);
  });

  test('API routes and bad product ids answer as Istio\'s apps do', async () => {
    route('v1');
    const products = JSON.parse((await get(`${apps.productpage.url}/api/v1/products`)).text);
    assert.deepEqual(products.map((p: { id: number; title: string }) => [p.id, p.title]), [[0, 'The Comedy of Errors']]);
    const details = JSON.parse((await get(`${apps.productpage.url}/api/v1/products/0`)).text);
    assert.deepEqual(details, { id: 0, author: 'William Shakespeare', year: 1595, type: 'paperback', pages: 200, publisher: 'PublisherA', language: 'English', 'ISBN-10': '1234567890', 'ISBN-13': '123-1234567890' });
    assert.deepEqual(JSON.parse((await get(`${apps.productpage.url}/api/v1/products/0/ratings`)).text), { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
    const badDetails = await get(`${apps.productpage.url}/api/v1/products/abc`);
    assert.equal(badDetails.status, 400, 'details\' 400 is passed on');
    assert.equal((await get(`${apps.ratings.url}/ratings/abc`)).status, 400);
    const posted = await fetch(`${apps.ratings.url}/ratings/3`, { method: 'POST', body: '{"Reviewer1":1}' });
    assert.deepEqual(await posted.json(), { id: 3, ratings: { Reviewer1: 1 } });
    assert.equal((await get(`${apps.productpage.url}/nope`)).status, 404);
    assert.match((await get(`${apps.productpage.url}/`)).text, /href="\/productpage\?u=normal"/);
  });

  test('upstream URLs follow Istio\'s environment variables', () => {
    assert.equal(serviceBaseUrl('reviews', {}), 'http://reviews:9080');
    assert.equal(serviceBaseUrl('details', { SERVICES_DOMAIN: 'default.svc.cluster.local', DETAILS_HOSTNAME: 'info', DETAILS_SERVICE_PORT: '8000' }), 'http://info.default.svc.cluster.local:8000');
    assert.throws(() => serviceBaseUrl('ratings', { RATINGS_SERVICE_PORT: 'x' }), /RATINGS_SERVICE_PORT: expected a port number 1-65535, got "x"/);
  });

  test('SIGTERM stops every app cleanly with exit code 0, at once, even with a connection that never sent a request', async () => {
    // A proxy's pool may hold a connection it opened for a request that went elsewhere; Node's
    // closeIdleConnections() does not count it as idle, so it would hold server.close() for the grace period.
    const silent = await Promise.all(Object.values(apps).map((app) => new Promise<ReturnType<typeof connect>>((resolve) => {
      const s = connect(app.port, '127.0.0.1', () => resolve(s));
      s.on('error', () => {});
    })));
    const start = performance.now();
    const exits = Object.values(apps).map((app) => new Promise<[string, number | null, string | null]>((resolve) => {
      app.child.once('exit', (code, signal) => resolve([app.name, code, signal]));
      app.child.kill('SIGTERM');
    }));
    for (const [name, code, signal] of await Promise.all(exits)) assert.deepEqual({ name, code, signal }, { name, code: 0, signal: null });
    const ms = performance.now() - start;
    for (const s of silent) s.destroy();
    assert.match(apps.productpage.output(), /^productpage stopping \(SIGTERM\)$/m);
    for (const app of Object.values(apps)) assert.doesNotMatch(app.output(), /still in flight/, app.name);
    assert.ok(ms < 3000, `the apps took ${ms.toFixed(0)} ms to stop`);
  });
});
