/**
 * End to end: `weft run` as a user runs it, against a real `weft control`. A server workload (echo-v1)
 * and client batch jobs, each a real `weft run` process with a small Node app: the app starts after its
 * sidecar is ready, with PORT, HTTP_PROXY, NO_PROXY, NODE_USE_ENV_PROXY and its identity; calls go
 * app → its sidecar → the server's sidecar → the server app; the exit code is the app's (signals as
 * 128+n); SIGTERM drains inbound traffic (an in-flight request finishes, new connections are refused)
 * before the app is stopped; every line is prefixed with the workload name.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../src/cli/main.ts';
import { startControl, waitFor, type ControlProcess } from './support/control-process.ts';
import { BIN, weft } from './support/weft-cli.ts';

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 9080}]
`;

/** The server app: /env answers with its environment, /slow takes 800 ms; SIGTERM closes and exits 0. */
const SERVER = `import http from 'node:http';
const server = http.createServer((req, res) => {
  if (req.url === '/slow') {
    console.log('slow request started');
    setTimeout(() => { console.log('slow request done'); res.end('slow done'); }, 800);
    return;
  }
  const e = process.env;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ url: req.url, PORT: e.PORT, HTTP_PROXY: e.HTTP_PROXY, http_proxy: e.http_proxy, NO_PROXY: e.NO_PROXY,
    NODE_USE_ENV_PROXY: e.NODE_USE_ENV_PROXY, POD_NAME: e.POD_NAME, POD_NAMESPACE: e.POD_NAMESPACE, SERVICE_ACCOUNT: e.SERVICE_ACCOUNT }));
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
console.error('a line on stderr');
process.on('SIGTERM', () => { console.log('SIGTERM received'); server.close(() => process.exit(0)); });
`;

/** A batch job: calls echo through the mesh (absolute-form via HTTP_PROXY), prints what it got and its own proxy, exits with argv[2]. */
const CLIENT = `import http from 'node:http';
http.get('http://echo:9080/env', (res) => {
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => {
    console.log('status ' + res.statusCode);
    console.log('echo says ' + body);
    console.log('my proxy ' + process.env.HTTP_PROXY + ' port ' + (process.env.PORT ?? 'none'));
    process.exit(Number(process.argv[2]));
  });
}).on('error', (e) => { console.error('call failed: ' + e.message); process.exit(99); });
`;

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

function weftRun(args: readonly string[], cwd: string): Running {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Index of `text` in `output`, failing the test when absent. */
function at(output: string, text: string): number {
  const i = output.indexOf(text);
  assert.ok(i >= 0, `${JSON.stringify(text)} in:\n${output}`);
  return i;
}

describe('weft run', { timeout: 60_000 }, () => {
  let control: ControlProcess;
  let dir: string;
  let server: Running;
  let serverIp: string;
  let appPort: number;
  const controlArg = () => ['--control', `127.0.0.1:${control.xdsPort}`];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-run-'));
    await writeFile(join(dir, 'server.mjs'), SERVER);
    await writeFile(join(dir, 'client.mjs'), CLIENT);
    control = await startControl();
    await control.apply(SERVICE);
    server = weftRun([...controlArg(), '--name', 'echo-v1', '--service-account', 'echo-sa', '--labels', 'app=echo,version=v1', '--port', '9080', '--drain-timeout', '3000', '--', 'node', 'server.mjs'], dir);
    await waitFor('the echo app listening', () => (server.output().includes('[echo-v1] listening on') ? true : undefined), 20_000);
    const m = /\[echo-v1\/proxy\] weft run: sidecar sidecar~([\d.]+)~echo-v1\.default~.*app port (\d+)/.exec(server.output());
    assert.ok(m, server.output());
    serverIp = m[1]!;
    appPort = Number(m[2]);
  });

  after(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    await control?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('starts the app once its sidecar is ready, listening on PORT, with the workload\'s identity', () => {
    const out = server.output();
    assert.ok(at(out, '[echo-v1/proxy] weft run: sidecar ready; starting node server.mjs') < at(out, `[echo-v1] listening on ${appPort}`));
    at(out, '[echo-v1] a line on stderr');
    assert.ok(!out.split('\n').some((l) => l !== '' && !l.startsWith('[echo-v1] ') && !l.startsWith('[echo-v1/proxy] ')), `every line prefixed:\n${out}`);
  });

  it('gives a batch job the mesh through HTTP_PROXY and exits with its exit code', async () => {
    const run = await weft(['run', ...controlArg(), '--name', 'client', '--', 'node', 'client.mjs', '7'], { cwd: dir });
    assert.equal(run.code, 7, run.stdout + run.stderr);
    assert.match(run.stdout, /^\[client\] status 200$/m);
    const echo = JSON.parse(/^\[client\] echo says (.*)$/m.exec(run.stdout)![1]!) as Record<string, string>;
    assert.deepEqual(echo, {
      url: '/env', PORT: String(appPort), HTTP_PROXY: `http://${serverIp}:15001`, http_proxy: `http://${serverIp}:15001`,
      NO_PROXY: 'localhost,.localhost,127.0.0.1,::1', NODE_USE_ENV_PROXY: '1', POD_NAME: 'echo-v1', POD_NAMESPACE: 'default', SERVICE_ACCOUNT: 'echo-sa',
    });
    const own = /^\[client\] my proxy http:\/\/([\d.]+):15001 port none$/m.exec(run.stdout);
    assert.ok(own !== null && own[1] !== serverIp, run.stdout);
    assert.match(run.stderr, /^\[client\/proxy\] weft run: app exited with code 7; stopping the sidecar$/m);
    assert.match(run.stderr, /^\[client\/proxy\] weft run: stopped$/m);
  });

  it('exits with 128 + the signal number when the app is killed by a signal', async () => {
    const run = await weft(['run', ...controlArg(), '--name', 'doomed', '--', 'sh', '-c', 'kill -KILL $$'], { cwd: dir });
    assert.equal(run.code, 137, run.stderr);
    assert.match(run.stderr, /\[doomed\/proxy\] weft run: app exited with signal SIGKILL/);
  });

  it('on SIGTERM drains inbound (in-flight finishes, new connections refused), then stops the app', async () => {
    const slow = get(`http://${serverIp}:9080/slow`);
    await waitFor('the slow request at the app', () => (server.output().includes('slow request started') ? true : undefined));
    server.child.kill('SIGTERM');
    await waitFor('draining', () => (server.output().includes('draining inbound connections') ? true : undefined));
    assert.equal(await connects(serverIp, 9080), false, 'new inbound connections are refused while draining');
    assert.deepEqual(await slow, { status: 200, body: 'slow done' });
    assert.equal(await server.exited, 0);
    const out = server.output();
    assert.ok(at(out, 'draining inbound connections') < at(out, '[echo-v1] slow request done'));
    // That the app was stopped only after the in-flight request finished is shown by its 200 above.
    at(out, '[echo-v1/proxy] weft run: stopping the app');
    // The app's line travels through one more pipe than weft run's own (app → weft run → stdout, while
    // weft run logs on stderr): their order across the two streams is not defined, only that both came.
    at(out, '[echo-v1] SIGTERM received');
    at(out, '[echo-v1/proxy] weft run: app exited with code 0');
    at(out, '[echo-v1/proxy] weft run: stopped');
  });
});

describe('weft run usage errors', () => {
  it('lists every problem and exits 2', async () => {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const io = { stdout: new PassThrough(), stderr, stdin: new PassThrough() };
    const code = await main(['node', 'weft', 'run', '--name', 'Bad_Name', '--port', '99999', '--app-port', 'x', '--stop-timeout', 'soon', '--', 'true'], io);
    assert.equal(code, 2);
    for (const p of ['--name: must be lowercase', '--port: PORT must be a port number', '--app-port: must be a number', '--stop-timeout: must be a number']) assert.ok(err.includes(`weft run: ${p}`), `${p} in:\n${err}`);
    err = '';
    assert.equal(await main(['node', 'weft', 'run', '--name', 'x'], io), 2);
    assert.match(err, /missing required argument 'command'/);
  });
});
