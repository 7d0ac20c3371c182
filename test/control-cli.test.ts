/**
 * End-to-end: `weft apply|get|delete` as real processes against the control plane's HTTP API (started
 * in this process on a random loopback port, with a real config store on disk).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { weft, ROOT } from './support/weft-cli.ts';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Registry as PromRegistry } from 'prom-client';
import { ConfigStore } from '../src/control/config/index.ts';
import { startHttpApi, type HttpApi } from '../src/control/http/index.ts';
import { Registry } from '../src/registry/index.ts';

const BOOKINFO = join(ROOT, 'test', 'fixtures', 'istio', 'bookinfo');


/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const BAD_VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
      weight: 150
`;

describe('weft apply / get / delete against the HTTP API', () => {
  let dir: string;
  let store: ConfigStore;
  let api: HttpApi;
  let control: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-apply-'));
    await mkdir(join(dir, 'watched'));
    await writeFile(join(dir, 'watched', 'gateway.yaml'), readFileSync(join(BOOKINFO, 'bookinfo-gateway.yaml'), 'utf8'));
    await writeFile(join(dir, 'bad.yaml'), BAD_VS);
    store = await ConfigStore.open({ configDirs: [join(dir, 'watched')], stateDir: join(dir, 'state'), log: () => {} });
    const registry = new Registry();
    api = await startHttpApi({
      port: 0, config: store, registry: () => registry.snapshot(), ready: () => true, metrics: new PromRegistry(),
      syncz: () => [], configDump: () => undefined,
    });
    control = `127.0.0.1:${api.port}`;
  });
  after(async () => {
    await api.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('apply -f FILE prints kubectl-style lines: created, then unchanged, then configured', async () => {
    const first = await weft(['apply', '-f', join(BOOKINFO, 'destination-rule-all.yaml'), '--control', control]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^destinationrule\.networking\.istio\.io\/reviews created$/m);
    assert.equal(first.stdout.trim().split('\n').length, 4);
    const again = await weft(['apply', '-f', join(BOOKINFO, 'destination-rule-all.yaml'), '--control', control]);
    assert.match(again.stdout, /^destinationrule\.networking\.istio\.io\/reviews unchanged$/m);
    const v1 = await weft(['apply', '-f', join(BOOKINFO, 'virtual-service-all-v1.yaml'), '--control', control]);
    assert.match(v1.stdout, /^virtualservice\.networking\.istio\.io\/reviews created$/m);
    const split = await weft(['apply', '-f', join(BOOKINFO, 'virtual-service-reviews-80-20.yaml'), '--control', control]);
    assert.equal(split.stdout, 'virtualservice.networking.istio.io/reviews configured\n');
  });

  it('apply refuses invalid input with the validator\'s messages and applies nothing (exit 1)', async () => {
    const r = await weft(['apply', '-f', 'bad.yaml', '-n', 'elsewhere', '--control', control], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^bad\.yaml:12 VirtualService elsewhere\/reviews spec\.http\[0\]\.route\[0\]\.weight: must be between 0 and 100 \(got 150\)$/m);
    assert.match(r.stderr, /nothing was applied/);
    const get = await weft(['get', 'vs', '-n', 'elsewhere', '--control', control]);
    assert.equal(get.stderr, 'No resources found in elsewhere namespace.\n');
  });

  it('apply -f - reads stdin; -n sets the namespace; $WEFT_CONTROL_HTTP gives the address', async () => {
    const stdin = readFileSync(join(BOOKINFO, 'virtual-service-ratings-test-abort.yaml'), 'utf8');
    const r = await weft(['apply', '-f', '-', '-n', 'team-a'], { stdin, env: { WEFT_CONTROL_HTTP: control } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'virtualservice.networking.istio.io/ratings created\n');
  });

  it('get KIND prints a table with the kind\'s key columns; -A adds NAMESPACE', async () => {
    const r = await weft(['get', 'virtualservices', '--control', control]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+GATEWAYS\s+HOSTS\s+AGE$/);
    assert.match(r.stdout, /^reviews\s+\["reviews"\]\s+\d+s$/m);
    const gw = await weft(['get', 'gw', '--control', control]);
    assert.match(gw.stdout, /^bookinfo-gateway\s+\d+s$/m, 'resources from watched directories are listed too');
    const all = await weft(['get', 'vs', '-A', '--control', control]);
    assert.match(all.stdout, /^NAMESPACE\s+NAME\s+GATEWAYS\s+HOSTS\s+AGE$/m);
    assert.match(all.stdout, /^team-a\s+ratings\s/m);
    const dr = await weft(['get', 'dr', '--control', control]);
    assert.match(dr.stdout, /^NAME\s+HOST\s+AGE\ndetails\s+details\s+\d+s$/m);
  });

  it('get KIND NAME -o yaml|json prints the resource', async () => {
    const y = await weft(['get', 'vs', 'reviews', '-o', 'yaml', '--control', control]);
    assert.equal(y.code, 0, y.stderr);
    const doc = parseYaml(y.stdout) as { kind: string; spec: { http: { route: { weight: number }[] }[] } };
    assert.equal(doc.kind, 'VirtualService');
    assert.deepEqual(doc.spec.http[0]!.route.map((r) => r.weight), [80, 20]);
    const j = await weft(['get', 'dr', '-o', 'json', '--control', control]);
    const list = JSON.parse(j.stdout) as { kind: string; items: { metadata: { name: string } }[] };
    assert.equal(list.kind, 'List');
    assert.deepEqual(list.items.map((i) => i.metadata.name), ['details', 'productpage', 'ratings', 'reviews']);
  });

  it('get: an unknown kind or name is an error (exit 1)', async () => {
    const kind = await weft(['get', 'widgets', '--control', control]);
    assert.equal(kind.code, 1);
    assert.match(kind.stderr, /doesn't have a resource type "widgets"/);
    const name = await weft(['get', 'vs', 'nope', '--control', control]);
    assert.equal(name.code, 1);
    assert.equal(name.stderr, 'Error from server (NotFound): virtualservices.networking.istio.io "nope" not found\n');
  });

  it('delete KIND NAME, then NotFound; delete -f deletes what a file names', async () => {
    const r = await weft(['delete', 'vs', 'ratings', '-n', 'team-a', '--control', control]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'virtualservice.networking.istio.io "ratings" deleted\n');
    const again = await weft(['delete', 'vs', 'ratings', '-n', 'team-a', '--control', control]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /NotFound.*"ratings" not found/);
    const byFile = await weft(['delete', '-f', join(BOOKINFO, 'destination-rule-all.yaml'), '--control', control]);
    assert.equal(byFile.code, 0, byFile.stderr);
    assert.match(byFile.stdout, /^destinationrule\.networking\.istio\.io "reviews" deleted$/m);
    const gone = await weft(['get', 'dr', '--control', control]);
    assert.equal(gone.stderr, 'No resources found in default namespace.\n');
  });

  it('delete refuses a resource that a watched file defines', async () => {
    const r = await weft(['delete', 'gateway', 'bookinfo-gateway', '--control', control]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /defined in the watched file .*gateway\.yaml: edit or remove the file instead/);
  });

  it('a control plane that is not running: exit 1 and say so', async () => {
    const port = await closedPort();
    for (const args of [['apply', '-f', join(BOOKINFO, 'destination-rule-all.yaml')], ['get', 'vs'], ['delete', 'vs', 'reviews']]) {
      const r = await weft([...args, '--control', `127.0.0.1:${port}`]);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, `error: cannot reach weft control at 127.0.0.1:${port}: is it running? (weft control)\n`);
    }
  });

  it('delete without -f or KIND NAME is a usage error (exit 2)', async () => {
    const r = await weft(['delete', '--control', control]);
    assert.equal(r.code, 2);
  });
});

describe('finding the local control plane without flags', () => {
  it('weft control records its addresses in its state directory; apply and get find it there', async () => {
    const { startControl, waitFor } = await import('./support/control-process.ts');
    const cp = await startControl();
    try {
      const recorded = await waitFor('control.json', async () => {
        try {
          return JSON.parse(await readFile(join(cp.stateDir, 'control.json'), 'utf8')) as { xds: string; http: string };
        } catch {
          return undefined;
        }
      });
      assert.equal(`http://${recorded.http}`, cp.httpUrl);
      assert.equal(recorded.xds, `127.0.0.1:${cp.xdsPort}`);
      const env = { WEFT_STATE: cp.stateDir };
      const applied = await weft(['apply', '-f', join(BOOKINFO, 'virtual-service-all-v1.yaml')], { env });
      assert.equal(applied.code, 0, applied.stderr);
      const got = await weft(['get', 'vs', 'reviews'], { env });
      assert.match(got.stdout, /reviews/);
    } finally {
      await cp.stop();
    }
  });
});
