import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Registry as PromRegistry } from 'prom-client';
import { ConfigStore } from '../config/index.ts';
import { Registry } from '../../registry/index.ts';
import { startHttpApi, type HttpApi } from './index.ts';

const REVIEWS_VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec: { hosts: [reviews], http: [{ route: [{ destination: { host: reviews, subset: v1 } }] }] }
`;
const INVALID = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: broken }
spec: { hosts: [reviews], http: [{ route: [{ destination: { host: reviews }, weight: 150 }] }] }
`;
const SERVICE = `apiVersion: v1
kind: Service
metadata: { name: ratings, namespace: shop }
spec: { selector: { app: ratings }, ports: [{ name: http, port: 9080 }] }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: ratings-1, namespace: shop }
spec: { address: 10.0.0.7, labels: { app: ratings } }
`;

interface Res { status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any }

/** One HTTP request with node:http (so a refused body still yields the server's answer). */
function call(api: HttpApi, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('HTTP API', () => {
  let root: string;
  let store: ConfigStore;
  let api: HttpApi;
  let ready = false;
  const logs = new EventEmitter();
  const registry = new Registry();
  const metrics = new PromRegistry();
  const pushes = new Counter({ name: 'pilot_xds_pushes', help: 'pushes', labelNames: ['type'], registers: [metrics] });

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'weft-http-'));
    await mkdir(join(root, 'config'));
    await writeFile(join(root, 'config', 'pinned.yaml'), `${REVIEWS_VS.replace('name: reviews', 'name: pinned')}---\n${SERVICE}`);
    store = await ConfigStore.open({ configDirs: [join(root, 'config')], stateDir: join(root, 'state'), log: (line) => logs.emit('line', line) });
    registry.setConfig(store.snapshot());
    store.onChange((snap) => registry.setConfig(snap));
    api = await startHttpApi({
      port: 0, config: store, registry: () => registry.snapshot(), ready: () => ready, metrics, bodyLimit: 64 * 1024,
      syncz: () => [{ proxy: 'sidecar~127.0.1.2~a.default~default.svc.cluster.local', types: {} }],
      configDump: (id) => (id === 'known' ? { configs: [] } : undefined),
    });
  });
  after(async () => {
    await api.close();
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  it('/ready is 503 until the control plane says ready, then 200', async () => {
    const not = await call(api, 'GET', '/ready');
    assert.equal(not.status, 503);
    assert.equal(not.json.error, 'not ready');
    ready = true;
    assert.equal((await call(api, 'GET', '/ready')).status, 200);
  });

  it('/metrics serves the Prometheus registry passed in', async () => {
    pushes.inc({ type: 'cds' });
    const res = await call(api, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/plain/);
    assert.match(res.text, /pilot_xds_pushes\{type="cds"\} 1/);
  });

  it('POST /apply refuses invalid input with every problem and applies nothing', async () => {
    const res = await call(api, 'POST', '/apply', `${REVIEWS_VS}---\n${INVALID}`);
    assert.equal(res.status, 400);
    assert.equal(res.json.code, 'INVALID_CONFIG');
    assert.match(res.json.error, /1 error in the request: nothing was changed/);
    assert.equal(res.json.errors[0].field, 'spec.http[0].route[0].weight');
    assert.equal(res.json.errors[0].line, 9, 'the line within the request body');
    assert.equal((await call(api, 'GET', '/resources/vs?name=reviews&namespace=default')).status, 404);
  });

  it('POST /apply says created / unchanged / configured per resource; -n via ?namespace=', async () => {
    const created = await call(api, 'POST', '/apply', REVIEWS_VS);
    assert.equal(created.status, 200);
    assert.deepEqual(created.json.results, [{ kind: 'VirtualService', apiVersion: 'networking.istio.io/v1', namespace: 'default', name: 'reviews', action: 'created' }]);
    assert.equal((await call(api, 'POST', '/apply', REVIEWS_VS)).json.results[0].action, 'unchanged');
    assert.equal((await call(api, 'POST', '/apply', REVIEWS_VS.replace('v1 }', 'v2 }'))).json.results[0].action, 'configured');
    const other = await call(api, 'POST', '/apply?namespace=team-a', REVIEWS_VS);
    assert.equal(other.json.results[0].namespace, 'team-a');
    const empty = await call(api, 'POST', '/apply', '# nothing\n');
    assert.equal(empty.status, 400);
    assert.equal(empty.json.code, 'NO_RESOURCES');
  });

  it('GET /resources/{kind} by any CLI name, filtered by namespace and name', async () => {
    const all = await call(api, 'GET', '/resources/virtualservices');
    assert.equal(all.status, 200);
    assert.equal(all.json.kind, 'List');
    assert.deepEqual(all.json.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`), ['default/pinned', 'default/reviews', 'team-a/reviews']);
    assert.match(all.json.items[0].metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT/);
    const one = await call(api, 'GET', '/resources/vs?namespace=team-a');
    assert.deepEqual(one.json.items.map((i: any) => i.metadata.namespace), ['team-a']);
    const byPath = await call(api, 'GET', '/resources/VirtualService/default/reviews');
    assert.equal(byPath.json.spec.http[0].route[0].destination.subset, 'v2');
    const svc = await call(api, 'GET', '/resources/svc?namespace=shop&name=ratings');
    assert.equal(svc.json.items.length, 1);
    const unknown = await call(api, 'GET', '/resources/widgets');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /doesn't have a resource type "widgets"/);
    const missing = await call(api, 'GET', '/resources/vs?name=nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error, 'virtualservices.networking.istio.io "nope" not found');
  });

  it('DELETE /resources/{kind}/{ns}/{name}: 200, then 404; a watched file\'s resource is 409', async () => {
    assert.equal((await call(api, 'DELETE', '/resources/vs/team-a/reviews')).status, 200);
    const again = await call(api, 'DELETE', '/resources/vs/team-a/reviews');
    assert.equal(again.status, 404);
    assert.equal(again.json.code, 'NOT_FOUND');
    const pinned = await call(api, 'DELETE', '/resources/vs/default/pinned');
    assert.equal(pinned.status, 409);
    assert.match(pinned.json.error, /defined in the watched file .*pinned\.yaml/);
    const noNs = await call(api, 'DELETE', '/resources/vs/reviews');
    assert.equal(noNs.status, 400);
  });

  it('POST /delete takes YAML and answers per resource', async () => {
    const res = await call(api, 'POST', '/delete', `${REVIEWS_VS}---\n${REVIEWS_VS.replace('name: reviews', 'name: ghost')}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.results.map((r: any) => [r.name, r.action]), [['reviews', 'deleted'], ['ghost', 'not-found']]);
  });

  it('/debug/configz shows the config in force and per-file problems', async () => {
    const reported = new Promise<void>((resolve) => {
      const onLine = (line: string) => { if (/broken\.yaml has 1 error/.test(line)) { logs.off('line', onLine); resolve(); } };
      logs.on('line', onLine);
    });
    await writeFile(join(root, 'config', 'broken.yaml'), INVALID);
    await reported;
    const res = await call(api, 'GET', '/debug/configz');
    assert.equal(res.status, 200);
    const keys = res.json.resources.map((r: any) => r.key);
    assert.ok(keys.includes('VirtualService/default/pinned'));
    const pinned = res.json.resources.find((r: any) => r.key === 'VirtualService/default/pinned');
    assert.equal(pinned.source.type, 'file');
    const [file, problems] = Object.entries(res.json.problems)[0] as [string, any[]];
    assert.match(file, /broken\.yaml$/);
    assert.equal(problems[0].field, 'spec.http[0].route[0].weight');
    assert.ok(res.text.includes('\n  "version"'), 'JSON is pretty-printed');
  });

  it('/debug/registryz lists services with ports and endpoints, and workloads', async () => {
    const res = await call(api, 'GET', '/debug/registryz');
    const svc = res.json.services.find((s: any) => s.hostname === 'ratings.shop.svc.cluster.local');
    assert.deepEqual(svc.ports[0].endpoints.map((e: any) => `${e.address}:${e.port}`), ['10.0.0.7:9080']);
    assert.equal(res.json.workloads[0].name, 'ratings-1');
  });

  it('/debug/syncz and /debug/config_dump delegate to the control plane', async () => {
    assert.match((await call(api, 'GET', '/debug/syncz')).json[0].proxy, /^sidecar~/);
    assert.deepEqual((await call(api, 'GET', '/debug/config_dump?proxyID=known')).json, { configs: [] });
    const unknown = await call(api, 'GET', '/debug/config_dump?proxyID=ghost');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /no connected proxy "ghost"/);
    assert.equal((await call(api, 'GET', '/debug/config_dump')).status, 400);
  });

  it('bodies over the limit get 413, by declared length or as they stream', async () => {
    const big = Buffer.alloc(65 * 1024, 'a');
    const declared = await call(api, 'POST', '/apply', big);
    assert.equal(declared.status, 413);
    assert.match(declared.json.error, /larger than 65536 bytes/);
    const chunked = await call(api, 'POST', '/apply', big, { 'transfer-encoding': 'chunked' });
    assert.equal(chunked.status, 413);
  });

  it('unknown paths are 404 and wrong methods 405, as JSON errors', async () => {
    const nf = await call(api, 'GET', '/nope');
    assert.equal(nf.status, 404);
    assert.equal(nf.json.error, 'no such endpoint: GET /nope');
    const na = await call(api, 'GET', '/apply');
    assert.equal(na.status, 405);
    assert.equal(na.headers['allow'], 'POST');
    assert.match(String(na.headers['content-type']), /application\/json/);
  });
});
