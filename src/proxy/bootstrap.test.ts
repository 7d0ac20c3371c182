import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { parseProxy } from '../control/proxy.ts';
import { structToJs } from '../xds/protos.ts';
import { CLIENT_FEATURES, freeLoopbackAddress, loadBootstrap, parseBootstrap, weftVersion } from './bootstrap.ts';
import type { Bootstrap } from './bootstrap.ts';
import { BootstrapError } from './xds/errors.ts';

/** The node as the control plane's ADS server hands it to `parseProxy` (metadata Struct → plain JS). */
const asSeen = (b: Bootstrap) => ({ ...b.node, metadata: structToJs(b.node.metadata), locality: b.node.locality ?? {} });

describe('proxy bootstrap', () => {
  it('builds a sidecar node the control plane parses into its workload', () => {
    const b = parseBootstrap('sidecar', { name: 'reviews-v2', namespace: 'shop', serviceAccount: 'bookinfo-reviews', labels: 'app=reviews, version=v2', ip: '127.0.1.7', ports: ['9080:41000', '9090'], locality: 'eu/west-1/a' }, {});
    assert.equal(b.node.id, 'sidecar~127.0.1.7~reviews-v2.shop~shop.svc.cluster.local');
    assert.equal(b.node.cluster, 'reviews.shop');
    assert.equal(b.node.userAgentName, 'weft');
    assert.equal(b.node.userAgentVersion, weftVersion());
    assert.deepEqual(b.node.clientFeatures, CLIENT_FEATURES);
    assert.equal(b.control, '127.0.0.1:15010');
    assert.equal(b.initialFetchTimeoutMs, 15_000);
    const meta = structToJs(b.node.metadata);
    assert.equal(meta.ISTIO_VERSION, weftVersion());
    assert.equal(meta.NAME, 'reviews-v2');
    const p = parseProxy(asSeen(b));
    assert.equal(p.kind, 'sidecar');
    assert.equal(p.ip, '127.0.1.7');
    assert.equal(p.namespace, 'shop');
    assert.equal(p.workloadName, 'reviews-v2');
    assert.equal(p.serviceAccount, 'bookinfo-reviews');
    assert.deepEqual(p.labels, { app: 'reviews', version: 'v2' });
    assert.deepEqual(p.ports.map((x) => x.containerPort), [9080, 9090]);
    assert.deepEqual([...p.appPorts], [[9080, 41000], [9090, 9090]]);
    assert.equal(p.interceptionMode, 'NONE');
    assert.equal(p.locality, 'eu/west-1/a');
  });

  it('builds a gateway (router) node on its bind address', () => {
    const b = parseBootstrap('router', { name: 'istio-ingressgateway', namespace: 'istio-system', labels: 'istio=ingressgateway' }, {});
    assert.equal(b.node.id, 'router~127.0.0.1~istio-ingressgateway.istio-system~istio-system.svc.cluster.local');
    const p = parseProxy(asSeen(b));
    assert.equal(p.kind, 'router');
    assert.deepEqual(p.labels, { istio: 'ingressgateway' });
    assert.equal(parseBootstrap('router', { name: 'gw', bind: '127.0.0.5', ip: '10.0.0.1' }, {}).ip, '127.0.0.5');
  });

  it('reads the environment, with flags taking precedence', () => {
    const env = {
      WEFT_CONTROL: 'cp.local:15010', WEFT_NAME: 'ratings', POD_NAMESPACE: 'prod', WEFT_LABELS: 'app=ratings',
      INSTANCE_IP: '127.0.1.9', WEFT_PORTS: '9080:4000, 9443', WEFT_INITIAL_FETCH_TIMEOUT_MS: '250', ISTIO_META_CLUSTER_ID: 'Kubernetes', ISTIO_META_NAMESPACE: 'ignored',
    };
    const b = parseBootstrap('sidecar', {}, env);
    assert.equal(b.control, 'cp.local:15010');
    assert.equal(b.name, 'ratings');
    assert.equal(b.namespace, 'prod');
    assert.equal(b.ip, '127.0.1.9');
    assert.deepEqual(b.ports, [{ port: 9080, appPort: 4000 }, { port: 9443, appPort: 9443 }]);
    assert.equal(b.initialFetchTimeoutMs, 250);
    const meta = structToJs(b.node.metadata);
    assert.equal(meta.CLUSTER_ID, 'Kubernetes');
    assert.equal(meta.NAMESPACE, 'prod', 'keys weft sets win over ISTIO_META_*');
    const flags = parseBootstrap('sidecar', { name: 'details', namespace: 'dev', control: '[::1]:15010', ip: '127.0.1.3', ports: ['80'] }, env);
    assert.deepEqual([flags.name, flags.namespace, flags.control, flags.ip, flags.ports.length], ['details', 'dev', '[::1]:15010', '127.0.1.3', 1]);
  });

  it('reports every problem at once', () => {
    const err = (() => {
      try {
        parseBootstrap('sidecar', { control: 'nowhere', namespace: 'Bad_NS', labels: 'novalue', ip: '999.1.1.1', ports: ['0', '80:x', '81', '81', '1:2:3'], locality: 'a//b', initialFetchTimeout: 'soon' }, {});
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof BootstrapError);
    assert.equal(err.code, 'PROXY_BOOTSTRAP');
    assert.deepEqual(err.problems.map((p) => p.slice(0, p.indexOf(':'))), [
      '--control', '--name', '--namespace', '--labels', '--ip', '--port', '--port', '--port', '--port', '--locality', '--initial-fetch-timeout',
    ]);
    assert.match(err.message, /--name: required/);
  });

  it('finds a free loopback address for a sidecar given none', async () => {
    const address = await freeLoopbackAddress();
    assert.notEqual(isIP(address), 0);
    const b = await loadBootstrap('sidecar', { name: 'a' }, {});
    assert.notEqual(isIP(b.ip), 0);
    assert.equal((await loadBootstrap('sidecar', { name: 'a', ip: '127.0.1.200' }, {})).ip, '127.0.1.200');
  });
});
