/**
 * End to end: `weft gateway` (router node, listeners from a Gateway on its --bind address) in front of
 * a `weft proxy` sidecar, both real processes against a real `weft control`. Also the proxy commands'
 * usage errors, in-process.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../src/cli/main.ts';
import { startControl, waitFor, type ControlProcess } from './support/control-process.ts';
import { freeLoopback } from './support/sidecars.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'weft.js');

const CONFIG = `apiVersion: v1
kind: Service
metadata: {name: ratings}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match: [{uri: {prefix: /ratings}}]
    route: [{destination: {host: ratings, port: {number: 9080}}}]
`;

function spawnWeft(args: readonly string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

function get(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string } | undefined> {
  return new Promise((resolve) => {
    http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', () => resolve(undefined));
  });
}

describe('weft gateway in front of a sidecar', { timeout: 60_000 }, () => {
  let control: ControlProcess;
  let gateway: ReturnType<typeof spawnWeft>;
  let sidecar: ReturnType<typeof spawnWeft>;
  let app: http.Server;
  let gwIp: string;

  before(async () => {
    control = await startControl();
    await control.apply(CONFIG);
    app = http.createServer((req, res) => res.end(`ratings ${req.url}`));
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const taken = new Set<string>();
    const base = [15000, 15021, 15090];
    gwIp = await freeLoopback(taken, [...base, 8080]);
    const sidecarIp = await freeLoopback(taken, [...base, 15001, 9080]);
    const controlArg = ['--control', `127.0.0.1:${control.xdsPort}`];
    sidecar = spawnWeft(['proxy', ...controlArg, '--name', 'ratings-v1', '--labels', 'app=ratings', '--ip', sidecarIp, '--port', `9080:${(app.address() as AddressInfo).port}`]);
    gateway = spawnWeft(['gateway', ...controlArg, '--name', 'ingressgateway', '--namespace', 'istio-system', '--labels', 'istio=ingressgateway', '--bind', gwIp]);
  });

  after(async () => {
    for (const p of [gateway, sidecar]) if (p !== undefined && p.child.exitCode === null) p.child.kill('SIGKILL');
    app?.close();
    await control?.stop();
  });

  it('binds the Gateway server on --bind and routes to the sidecar\'s app', async () => {
    await waitFor('gateway ready', async () => ((await get(`http://${gwIp}:15021/healthz/ready`))?.status === 200 ? true : undefined), 20_000);
    assert.match(gateway.output(), new RegExp(`router~${gwIp.replaceAll('.', '\\.')}~ingressgateway\\.istio-system`));
    const listeners = (await get(`http://${gwIp}:15000/listeners`))!.body;
    assert.ok(listeners.includes(`0.0.0.0_8080::${gwIp}:8080`), listeners);
    const r = await waitFor('ratings through the gateway', async () => {
      const res = await get(`http://${gwIp}:8080/ratings/7`);
      return res?.status === 200 ? res : undefined;
    }, 20_000);
    assert.equal(r.body, 'ratings /ratings/7');
    const miss = await get(`http://${gwIp}:8080/other`);
    assert.equal(miss?.status, 404);
  });

  it('drains and exits on SIGTERM', async () => {
    gateway.child.kill('SIGTERM');
    sidecar.child.kill('SIGTERM');
    assert.equal(await gateway.exited, 0);
    assert.equal(await sidecar.exited, 0);
    assert.match(gateway.output(), /weft gateway: SIGTERM, draining[\s\S]*weft gateway: stopped/);
  });
});

describe('weft proxy / weft gateway usage errors', () => {
  it('lists every problem and exits 2', async () => {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const io = { stdout: new PassThrough(), stderr, stdin: new PassThrough() };
    const code = await main(['node', 'weft', 'proxy', '--ip', 'nope', '--port', '99999', '--admin-port', 'x', '--log-level', 'loud'], io);
    assert.equal(code, 2);
    for (const p of ['--name: required', '--ip: must be an IP address', '--port: PORT must be a port number', '--admin-port: must be a port number', '--log-level: must be one of']) assert.ok(err.includes(p), `${p} in:\n${err}`);
    err = '';
    assert.equal(await main(['node', 'weft', 'gateway', '--name', 'gw', '--bind', '300.1.1.1'], io), 2);
    assert.match(err, /weft gateway: --bind: must be an IP address/);
  });
});
