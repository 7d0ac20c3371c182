/** End-to-end tests of the `weft` command: real processes, real files, real exit codes. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { weft, ROOT } from './support/weft-cli.ts';
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BOOKINFO = join(ROOT, 'test', 'fixtures', 'istio', 'bookinfo');


const REVIEWS_BAD = `apiVersion: networking.istio.io/v1
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
        subset: v1
    - destination:
        host: reviews
        subset: v2
      weight: 150
    timeout: 10x
`;

const REVIEWS_V4 = `apiVersion: networking.istio.io/v1
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
        subset: v4
`;

describe('weft CLI', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-cli-'));
    await writeFile(join(dir, 'reviews.yaml'), REVIEWS_BAD);
    await writeFile(join(dir, 'reviews-v4.yaml'), REVIEWS_V4);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('--help lists every command with a summary; --version prints the version', async () => {
    const help = await weft(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /validate\s.*check Istio config/);
    assert.match(help.stdout, /analyze\s.*find problems/);
    const version = await weft(['--version']);
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), pkg.version);
  });

  it('validate: exit 0 and a summary for Istio\'s bookinfo configs', async () => {
    const r = await weft(['validate', '-f', BOOKINFO]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✔ \d+ resources valid/);
  });

  it('validate: every error with file:line, resource, field path and the offending value; exit 1', async () => {
    const r = await weft(['validate', '-f', join(dir, 'reviews.yaml')], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^reviews\.yaml:16 VirtualService default\/reviews spec\.http\[0\]\.route\[1\]\.weight: .*150/m);
    assert.match(r.stdout, /^reviews\.yaml:17 VirtualService default\/reviews spec\.http\[0\]\.timeout: .*"10x"/m);
    assert.match(r.stdout, /✘ 2 errors in 1 document/);
  });

  it('validate -o json gives machine-readable results; - reads stdin', async () => {
    const r = await weft(['validate', '-f', '-', '-o', 'json'], { stdin: REVIEWS_BAD });
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { valid: boolean; errors: { file: string; line: number; field: string; message: string }[] };
    assert.equal(out.valid, false);
    assert.deepEqual(out.errors.map((e) => `${e.file}:${e.line} ${e.field}`), ['<stdin>:16 spec.http[0].route[1].weight', '<stdin>:17 spec.http[0].timeout']);
  });

  it('validate: JSON files and nested directories; -n sets the default namespace', async () => {
    const nested = join(dir, 'tree', 'deeper');
    await mkdir(nested, { recursive: true });
    const json = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews' }, spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }], trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBN' } } } };
    await writeFile(join(nested, 'dr.json'), JSON.stringify(json, null, 2));
    await writeFile(join(dir, 'tree', 'notes.txt'), 'not config');
    const r = await weft(['validate', '-f', join(dir, 'tree'), '-n', 'shop'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^tree\/deeper\/dr\.json:\d+ DestinationRule shop\/reviews spec\.trafficPolicy\.loadBalancer\.simple: must be one of .*\(got "ROUND_ROBN"\) \(did you mean "ROUND_ROBIN"\?\)$/m);
  });

  it('validate: a missing file is reported, other inputs are still checked', async () => {
    const r = await weft(['validate', '-f', join(dir, 'nope.yaml'), '-f', join(BOOKINFO, 'bookinfo-gateway.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /nope\.yaml:0: cannot read: no such file or directory/);
  });

  it('usage errors exit 2', async () => {
    assert.equal((await weft(['frobnicate'])).code, 2);
    assert.equal((await weft(['validate'])).code, 2);
  });

  it('analyze: IST0101 for a subset no DestinationRule defines, istioctl format, exit 1', async () => {
    const r = await weft(['analyze', '-f', join(BOOKINFO, 'platform-kube-bookinfo.yaml'), '-f', join(BOOKINFO, 'destination-rule-all.yaml'), '-f', 'reviews-v4.yaml'], { cwd: dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^Error \[IST0101\] \(VirtualService default\/reviews reviews-v4\.yaml:12\) Referenced host\+subset in destinationrule not found: "reviews\+v4"$/m);
  });

  it('analyze: bookinfo with its DestinationRules and routes is clean; -o json', async () => {
    const files = ['platform-kube-bookinfo.yaml', 'bookinfo-gateway.yaml', 'destination-rule-all.yaml', 'virtual-service-all-v1.yaml'];
    const r = await weft(['analyze', ...files.flatMap((f) => ['-f', join(BOOKINFO, f)])]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /^(Error|Warning)/m);
    const quiet = await weft(['analyze', '--output-threshold', 'Warning', ...files.flatMap((f) => ['-f', join(BOOKINFO, f)])]);
    assert.match(quiet.stdout, /No validation issues found/);
    const json = await weft(['analyze', '-o', 'json', '-f', join(dir, 'reviews-v4.yaml')]);
    const msgs = JSON.parse(json.stdout) as { code: string; level: string; origin: string }[];
    assert.deepEqual(msgs.map((m) => m.code), ['IST0101']);
    assert.match(msgs[0]!.origin, /reviews-v4\.yaml:11$/);
  });

  it('analyze --list-analyzers names each analyzer', async () => {
    const r = await weft(['analyze', '--list-analyzers']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /destination-host\s+VirtualService destinations/);
  });
});
