import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stripModule } from './app-build.ts';
import { demoConfig } from './mesh-config.ts';
import { pageKind } from './traffic.ts';

describe('stripModule', () => {
  it('strips types keeping line positions and points relative .ts imports at .js', () => {
    const src = "import type { A } from './a.ts';\nimport { b } from \"../lib/b.ts\";\nimport x from 'pkg.ts';\nconst n: number = await import('./c.ts').then(() => 1);\nexport const v = b as A;\n";
    const out = stripModule(src);
    assert.equal(out.split('\n').length, src.split('\n').length);
    assert.match(out, /import \{ b \} from "\.\.\/lib\/b\.js";/);
    assert.match(out, /import\('\.\/c\.js'\)/);
    assert.match(out, /from 'pkg\.ts'/, 'bare specifiers are left alone');
    assert.doesNotMatch(out, /: number|as A|import type/);
  });
});

describe('demoConfig', () => {
  it('is the bookinfo Services, bookinfo-gateway and destination-rule-all, all valid', async () => {
    const names = (await demoConfig(8080)).map((r) => `${r.kind}/${r.metadata.name}`);
    for (const n of ['Service/productpage', 'Service/details', 'Service/reviews', 'Service/ratings', 'Gateway/bookinfo-gateway', 'VirtualService/bookinfo', 'DestinationRule/reviews']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  });

  it('moves the Gateway server to another port when asked', async () => {
    const gw = (await demoConfig(9090)).find((r) => r.kind === 'Gateway');
    assert.deepEqual((gw?.spec as { servers: { port: { number: number } }[] }).servers.map((s) => s.port.number), [9090]);
  });
});

describe('pageKind', () => {
  it('tells the reviews version by its stars, and the tasks\' error texts', () => {
    const page = (reviews: string) => `<h4>Book Details</h4><h4>Book Reviews</h4>${reviews}`;
    assert.equal(pageKind(200, page('<blockquote>ok</blockquote>')), 'v1 (no stars)');
    assert.equal(pageKind(200, page('<font color="black">★</font>')), 'v2 (black stars)');
    assert.equal(pageKind(200, page('<font color="red">★</font>')), 'v3 (red stars)');
    assert.equal(pageKind(200, page('<i>Ratings service is currently unavailable</i>')), 'ratings unavailable');
    assert.equal(pageKind(200, '<h4>Error fetching product reviews!</h4>'), 'reviews unavailable');
    assert.equal(pageKind(503, 'no healthy upstream'), 'error');
  });
});
