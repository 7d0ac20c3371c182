import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type AnyResource } from '../../api/index.ts';
import type { ConfigSnapshot } from '../config-snapshot.ts';
import { ConfigStore, ConfigDirError, StateError, STATE_FILE, JOURNAL_FILE } from './index.ts';

const vs = (name: string, host: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec: { hosts: [${host}], http: [{ route: [{ destination: { host: ${host} } }] }] }
`;
const dr = (name: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name} }
spec: { host: ${name}, subsets: [{ name: v1, labels: { version: v1 } }] }
`;
const INVALID_VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec: { hosts: [reviews], http: [{ route: [{ destination: { host: reviews }, weight: 150 }] }] }
`;

function resources(yaml: string): AnyResource[] {
  const set = parseConfig(yaml, 'test.yaml');
  assert.deepEqual(set.problems.filter((p) => p.severity === 'error'), []);
  return set.resources;
}

interface Harness {
  dir: string;
  state: string;
  logs: string[];
  open(opts?: { configDirs?: string[] }): Promise<ConfigStore>;
  /** Resolves on the next change event of `store`. */
  nextChange(store: ConfigStore): Promise<{ snapshot: ConfigSnapshot; keys: ReadonlySet<string> }>;
  /** Resolves when a log line matches. */
  logged(re: RegExp): Promise<string>;
}

function hostOf(snap: ConfigSnapshot, name: string): unknown {
  return snap.of('VirtualService').find((r) => r.metadata.name === name)?.spec.hosts?.[0];
}

describe('ConfigStore', () => {
  let root: string;
  let h: Harness;
  const stores: ConfigStore[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'weft-store-'));
    const dir = join(root, 'config');
    await mkdir(dir);
    const logs: string[] = [];
    const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
    h = {
      dir,
      state: join(root, 'state'),
      logs,
      async open(opts = {}) {
        const s = await ConfigStore.open({
          configDirs: opts.configDirs ?? [dir], stateDir: join(root, 'state'),
          log: (line) => {
            logs.push(line);
            for (const w of waiters.splice(0)) if (w.re.test(line)) w.resolve(line); else waiters.push(w);
          },
        });
        stores.push(s);
        return s;
      },
      nextChange(store) {
        return new Promise((resolve) => {
          const off = store.onChange((snapshot, keys) => { off(); resolve({ snapshot, keys }); });
        });
      },
      logged(re) {
        const hit = logs.find((l) => re.test(l));
        return hit !== undefined ? Promise.resolve(hit) : new Promise((resolve) => waiters.push({ re, resolve }));
      },
    };
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await rm(root, { recursive: true, force: true });
  });

  it('loads a directory, then reloads files as they are written, edited and deleted', async () => {
    await writeFile(join(h.dir, 'reviews.yaml'), vs('reviews', 'reviews'));
    const store = await h.open();
    assert.deepEqual(store.snapshot().resources.map((r) => r.metadata.name), ['reviews']);

    let change = h.nextChange(store);
    await writeFile(join(h.dir, 'ratings.yaml'), `${dr('ratings')}---\n${vs('ratings', 'ratings')}`);
    let { snapshot, keys } = await change;
    assert.deepEqual([...keys].sort(), ['DestinationRule/default/ratings', 'VirtualService/default/ratings']);
    assert.equal(snapshot.of('VirtualService').length, 2);

    change = h.nextChange(store);
    await writeFile(join(h.dir, 'reviews.yaml'), vs('reviews', 'reviews.other.svc.cluster.local'));
    ({ snapshot, keys } = await change);
    assert.deepEqual([...keys], ['VirtualService/default/reviews']);
    assert.equal(hostOf(snapshot, 'reviews'), 'reviews.other.svc.cluster.local');

    change = h.nextChange(store);
    await unlink(join(h.dir, 'ratings.yaml'));
    ({ snapshot, keys } = await change);
    assert.deepEqual([...keys].sort(), ['DestinationRule/default/ratings', 'VirtualService/default/ratings']);
    assert.deepEqual(snapshot.resources.map((r) => r.metadata.name), ['reviews']);
    assert.ok(snapshot.version > 1);
  });

  it('watches subdirectories and skips hidden files', async () => {
    const store = await h.open();
    const change = h.nextChange(store);
    await writeFile(join(h.dir, '.hidden.yaml'), vs('hidden', 'hidden'));
    await mkdir(join(h.dir, 'team', 'sub'), { recursive: true });
    await writeFile(join(h.dir, 'team', 'sub', 'x.yml'), vs('x', 'x'));
    const { snapshot } = await change;
    assert.deepEqual(snapshot.resources.map((r) => r.metadata.name), ['x']);
  });

  it('a file that becomes invalid is reported and its last good version stays in force', async () => {
    await writeFile(join(h.dir, 'reviews.yaml'), vs('reviews', 'reviews'));
    const store = await h.open();
    const before = store.snapshot();
    let changes = 0;
    store.onChange(() => { changes++; });
    await writeFile(join(h.dir, 'reviews.yaml'), INVALID_VS);
    await h.logged(/reviews\.yaml has 1 error; its last good version stays in force \(1 resources\)/);
    assert.match(h.logs.join('\n'), /reviews\.yaml:4 VirtualService default\/reviews spec\.http\[0\]\.route\[0\]\.weight: must be between 0 and 100/);
    assert.equal(changes, 0);
    assert.equal(store.snapshot(), before);
    const problems = [...store.problems().entries()];
    assert.equal(problems.length, 1);
    assert.match(problems[0]![0], /reviews\.yaml$/);
    assert.equal(problems[0]![1][0]?.field, 'spec.http[0].route[0].weight');

    const fixed = h.nextChange(store);
    await writeFile(join(h.dir, 'reviews.yaml'), vs('reviews', 'fixed'));
    const { snapshot } = await fixed;
    assert.equal(hostOf(snapshot, 'reviews'), 'fixed');
    assert.equal(store.problems().size, 0);
  });

  it('a file with errors seen for the first time contributes its valid resources', async () => {
    await writeFile(join(h.dir, 'mixed.yaml'), `${vs('good', 'good')}---\n${INVALID_VS}`);
    const store = await h.open();
    assert.deepEqual(store.snapshot().resources.map((r) => r.metadata.name), ['good']);
    assert.match(await h.logged(/mixed\.yaml has/), /its 1 valid resources are in force/);
  });

  it('apply and delete persist: a new store over the same state directory sees them', async () => {
    const first = await h.open({ configDirs: [] });
    const changed = h.nextChange(first);
    const applied = await first.apply(resources(`${vs('reviews', 'reviews')}---\n${dr('reviews')}`));
    assert.deepEqual(applied.map((r) => [r.key, r.action]), [['VirtualService/default/reviews', 'created'], ['DestinationRule/default/reviews', 'created']]);
    assert.equal((await changed).keys.size, 2);
    // The same content with keys in another order is unchanged; a different spec is configured.
    const again = await first.apply(resources(`kind: VirtualService
apiVersion: networking.istio.io/v1
spec: { http: [{ route: [{ destination: { host: reviews } }] }], hosts: [reviews] }
metadata: { name: reviews }
`));
    assert.equal(again[0]?.action, 'unchanged');
    assert.equal((await first.apply(resources(vs('reviews', 'reviews-v2'))))[0]?.action, 'configured');
    const createdAt = first.describe('VirtualService/default/reviews')?.createdAt;
    assert.ok(createdAt);
    await first.close();

    const files = (await readdir(h.state)).sort();
    assert.deepEqual(files, [JOURNAL_FILE], 'changes go to the journal; no temporary files are left behind');
    const lines = (await readFile(join(h.state, JOURNAL_FILE), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.every((l) => 'put' in l || 'delete' in l), 'one JSON entry per line');

    const second = await h.open({ configDirs: [] });
    assert.equal(hostOf(second.snapshot(), 'reviews'), 'reviews-v2');
    assert.equal(second.snapshot().of('DestinationRule').length, 1);
    assert.equal(second.describe('VirtualService/default/reviews')?.createdAt, createdAt);
    assert.deepEqual(second.describe('VirtualService/default/reviews')?.source, { type: 'applied' });
    const deleted = await second.delete(['VirtualService/default/reviews', 'VirtualService/default/nope']);
    assert.deepEqual(deleted.map((d) => d.action), ['deleted', 'not-found']);
    await second.close();

    const third = await h.open({ configDirs: [] });
    assert.deepEqual(third.snapshot().resources.map((r) => r.kind), ['DestinationRule']);
  });

  it('the most recent change wins between a watched file and applied config', async () => {
    await writeFile(join(h.dir, 'reviews.yaml'), vs('reviews', 'from-file'));
    const store = await h.open();
    await store.apply(resources(vs('reviews', 'from-apply')));
    assert.equal(hostOf(store.snapshot(), 'reviews'), 'from-apply');
    assert.equal(store.describe('VirtualService/default/reviews')?.source.type, 'applied');

    const edited = h.nextChange(store);
    await writeFile(join(h.dir, 'reviews.yaml'), vs('reviews', 'edited-file'));
    assert.equal(hostOf((await edited).snapshot, 'reviews'), 'edited-file');

    // Re-applying what the applied source already held puts it back in force.
    const [again] = await store.apply(resources(vs('reviews', 'from-apply')));
    assert.equal(again?.action, 'configured');
    assert.equal(hostOf(store.snapshot(), 'reviews'), 'from-apply');

    // Deleting the applied definition brings the file's back; the file's own cannot be deleted by the API.
    const [d1] = await store.delete(['VirtualService/default/reviews']);
    assert.equal(d1?.action, 'deleted');
    assert.match(d1?.file ?? '', /reviews\.yaml$/);
    assert.equal(hostOf(store.snapshot(), 'reviews'), 'edited-file');
    const [d2] = await store.delete(['VirtualService/default/reviews']);
    assert.equal(d2?.action, 'defined-in-file');
  });

  it('across a restart, the order of changes holds: file modification time against the time of the apply', async () => {
    const file = join(h.dir, 'reviews.yaml');
    await writeFile(file, vs('reviews', 'from-file'));
    const hourAgo = new Date(Date.now() - 3600_000);
    await utimes(file, hourAgo, hourAgo);
    const first = await h.open();
    await first.apply(resources(vs('reviews', 'from-apply')));
    await first.close();
    const second = await h.open();
    assert.equal(hostOf(second.snapshot(), 'reviews'), 'from-apply', 'the apply came after the file\'s last edit');
    await second.close();
    const inAnHour = new Date(Date.now() + 3600_000);
    await utimes(file, inAnHour, inAnHour);
    const third = await h.open();
    assert.equal(hostOf(third.snapshot(), 'reviews'), 'from-file', 'the file was edited after the apply');
  });

  it('folds the journal into a snapshot after enough changes; a journal line cut short is ignored', async () => {
    const store = await h.open({ configDirs: [] });
    for (let i = 0; i < 260; i++) await store.apply(resources(`${vs('a', `host-${i}`)}---\n${vs('b', `host-${i}`)}`));
    await store.close();
    const files = (await readdir(h.state)).sort();
    assert.ok(files.includes(STATE_FILE), `a snapshot was written (${files.join(', ')})`);
    const journal = await readFile(join(h.state, JOURNAL_FILE), 'utf8').catch(() => '');
    assert.ok(journal.split('\n').filter(Boolean).length < 100, 'the journal was emptied by the snapshot');
    // A crash while appending leaves half a line: the entries before it count, the half line does not.
    await writeFile(join(h.state, JOURNAL_FILE), `${journal}{"put": {"createdAt": "2026-`, { flag: 'w' });
    const again = await h.open({ configDirs: [] });
    assert.equal(hostOf(again.snapshot(), 'a'), 'host-259');
    assert.ok(h.logs.some((l) => /cut short/.test(l)), h.logs.join('\n'));
    await again.close();
  });

  it('keeps snapshot order (kind, namespace, name) as single resources come and go', async () => {
    const store = await h.open({ configDirs: [] });
    const named = (name: string, ns: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name}, namespace: ${ns} }
spec: { host: ${name} }
`;
    const order = () => store.snapshot().resources.map((r) => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`);
    const expected = () => [...order()].sort((a, b) => {
      const ka = a.replaceAll('/', '\u0000');
      const kb = b.replaceAll('/', '\u0000');
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    // Namespaces `a` and `a-b` sort differently by '/' and by the separator the snapshot uses.
    await store.apply(resources([named('m', 'a'), named('z', 'a-b'), vs('r', 'r')].join('---\n')));
    for (const [name, ns] of [['b', 'a-b'], ['a', 'a'], ['zz', 'a'], ['n', 'default'], ['x0', 'a-b']] as const) {
      await store.apply(resources(named(name, ns)));
      assert.deepEqual(order(), expected());
    }
    await store.delete(['DestinationRule/a/m', 'DestinationRule/a-b/x0']);
    assert.deepEqual(order(), expected());
    assert.equal(order().length, 6);
    await store.apply(resources(named('m', 'a')));
    assert.deepEqual(order(), expected());
    await store.close();
  });

  it('refuses a corrupt state file and a missing config directory with typed errors', async () => {
    await mkdir(h.state, { recursive: true });
    await writeFile(join(h.state, STATE_FILE), '{"format": 1, "resources": [');
    await assert.rejects(h.open({ configDirs: [] }), (e: unknown) => e instanceof StateError && e.code === 'STATE_CORRUPT');
    await rm(h.state, { recursive: true });
    await assert.rejects(h.open({ configDirs: [join(root, 'missing')] }), (e: unknown) => e instanceof ConfigDirError && /no such directory/.test(e.message));
  });
});
