import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBootstrap } from './bootstrap.ts';
import { Proxy } from './proxy.ts';

describe('Proxy before any config arrives', () => {
  it('serves admin on free ports, reports not ready, and stops cleanly', async () => {
    // Port 1 on loopback: nothing answers, so the proxy stays unconfigured.
    const bootstrap = parseBootstrap('sidecar', { control: '127.0.0.1:1', name: 'w', ip: '127.0.0.1' }, {});
    const lines: string[] = [];
    const proxy = await Proxy.start({ bootstrap, ports: { admin: 0, health: 0, prometheus: 0 }, logSink: (l) => lines.push(l), drainTimeoutMs: 100 });
    try {
      assert.equal(proxy.ready, false);
      const health = await fetch(`${proxy.urls.health}/healthz/ready`);
      assert.equal(health.status, 503);
      assert.match(await health.text(), /not ready: .*lds/);
      const ready = await fetch(`${proxy.urls.admin}/ready`);
      assert.equal(ready.status, 503);
      assert.equal((await ready.text()).trim(), 'INITIALIZING');
      const dump = await (await fetch(`${proxy.urls.admin}/config_dump`)).json() as { configs: { '@type': string }[] };
      assert.deepEqual(dump.configs.map((c) => c['@type'].split('.').at(-1)), ['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'RoutesConfigDump']);
      assert.equal((await fetch(`${proxy.urls.admin}/nope`)).status, 404);
      assert.equal((await fetch(`${proxy.urls.prometheus}/stats/prometheus`)).status, 200);
    } finally {
      await proxy.stop();
    }
    await proxy.stopped;
    await assert.rejects(fetch(`${proxy.urls.admin}/ready`));
  });
});
