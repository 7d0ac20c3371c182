import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlXds, discoverControl, writeControlAddresses } from './control-discovery.ts';

describe('finding the local control plane', () => {
  it('reads what a running control plane recorded; the flag and WEFT_CONTROL win', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-disc-'));
    await writeControlAddresses(dir, { xds: '127.0.0.1:1234', http: '127.0.0.1:5678', pid: process.pid });
    const env = { WEFT_STATE: dir };
    assert.deepEqual(discoverControl(env), { xds: '127.0.0.1:1234', http: '127.0.0.1:5678', pid: process.pid });
    assert.equal(controlXds(undefined, env), '127.0.0.1:1234');
    assert.equal(controlXds('10.0.0.1:15010', env), '10.0.0.1:15010');
    assert.equal(controlXds(undefined, { ...env, WEFT_CONTROL: '10.0.0.2:15010' }), undefined, 'the bootstrap reads WEFT_CONTROL itself');
  });

  it('ignores a missing, corrupt or stale record', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-disc-'));
    assert.equal(discoverControl({ WEFT_STATE: dir }), undefined);
    await writeFile(join(dir, 'control.json'), '{"xds": 12');
    assert.equal(discoverControl({ WEFT_STATE: dir }), undefined);
    await writeFile(join(dir, 'control.json'), JSON.stringify({ xds: 'a:1', http: 'a:2', pid: 2 ** 22 + 12345 }));
    assert.equal(discoverControl({ WEFT_STATE: dir }), undefined, 'its process is gone');
  });
});
