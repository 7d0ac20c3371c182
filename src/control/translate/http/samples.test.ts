/**
 * Every VirtualService in Istio's samples and reference docs (test/fixtures/istio) translates, for the
 * mesh and for each gateway it names, into routes that Envoy's protos accept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../api/index.ts';
import { httpRoutes } from './http-routes.ts';
import { resolveGatewayName } from './applies.ts';
import { context, encodeRoutes } from './testing.ts';
import type { VirtualServiceResource } from './context.ts';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../test/fixtures/istio');

test('Istio\'s sample and reference VirtualServices translate to routes that encode', async () => {
  const set = await loadConfig([FIXTURES]);
  const vss = set.resources.filter((r): r is VirtualServiceResource => r.kind === 'VirtualService');
  assert.ok(vss.length >= 20, `expected Istio's sample VirtualServices, found ${vss.length}`);
  let routes = 0;
  for (const vs of vss) {
    const ns = vs.metadata.namespace;
    const gateways = [undefined, ...(vs.spec.gateways ?? []).filter((g) => g !== 'mesh').map((g) => resolveGatewayName(g, ns))];
    for (const gateway of gateways) {
      // Every host is known here: the point is the shape of what comes out, not the registry.
      const ctx = context({
        ...(gateway !== undefined ? { gateway } : {}),
        listenerPort: 80,
        clusterFor: (d) => `outbound|${d.port ?? 80}|${d.subset ?? ''}|${d.host}`,
        delegate: (name, namespace) => vss.find((v) => v.metadata.name === name && v.metadata.namespace === namespace),
      });
      const out = httpRoutes(vs, ctx);
      assert.doesNotThrow(() => encodeRoutes(out), `${ns}/${vs.metadata.name} (${gateway ?? 'mesh'})`);
      routes += out.length;
    }
  }
  assert.ok(routes > vss.length, `only ${routes} routes from ${vss.length} VirtualServices`);
});
