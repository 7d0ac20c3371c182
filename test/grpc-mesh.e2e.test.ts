/**
 * gRPC through two sidecars configured by `weft control`: a client reaches a gRPC service by its mesh
 * name through its own sidecar's outbound listener (HTTP/2, prior knowledge), the server's sidecar
 * receives it on the inbound listener and forwards over HTTP/2 to the app (the inbound cluster of a
 * `grpc` port speaks HTTP/2, as Istio's). Unary, server streaming and an error status are checked.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Proxy } from '../src/proxy/proxy.ts';
import { loadBootstrap } from '../src/proxy/bootstrap.ts';
import { startControl, waitFor, type ControlProcess } from './support/control-process.ts';

const CONFIG = `apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{name: grpc, port: 9090}]
`;

const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };

async function startEchoServer(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.register('/test.Echo/Say', (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
    const text = call.request.toString();
    if (text === 'missing') cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
    else cb(null, Buffer.from(`echo ${text}`));
  }, raw.serialize, raw.deserialize, 'unary');
  server.register('/test.Echo/Count', (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    const n = Number(call.request.toString());
    for (let i = 1; i <= n; i++) call.write(Buffer.from(String(i)));
    call.end();
  }, raw.serialize, raw.deserialize, 'serverStream');
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { server, port };
}

describe('gRPC through two weft sidecars with weft control', { timeout: 60_000 }, () => {
  let control: ControlProcess;
  let echo: { server: grpc.Server; port: number };
  const proxies: Proxy[] = [];
  let client: grpc.Client;

  before(async () => {
    control = await startControl();
    await control.apply(CONFIG);
    echo = await startEchoServer();
    const target = `127.0.0.1:${control.xdsPort}`;
    const ports = { admin: 0, health: 0, prometheus: 0 };
    const server = await loadBootstrap('sidecar', { control: target, name: 'echo-v1', labels: 'app=echo', ports: [`9090:${echo.port}`] });
    const caller = await loadBootstrap('sidecar', { control: target, name: 'caller', labels: 'app=caller' });
    for (const bootstrap of [server, caller]) proxies.push(await Proxy.start({ bootstrap, ports, logSink: () => {}, drainTimeoutMs: 100 }));
    await Promise.all(proxies.map((p) => p.whenReady()));
    client = new grpc.Client(`${caller.ip}:15001`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'echo:9090' });
  });
  after(async () => {
    client?.close();
    await Promise.all(proxies.map((p) => p.stop()));
    echo?.server.forceShutdown();
    await control?.stop();
  });

  const say = (text: string): Promise<{ value?: Buffer; error?: grpc.ServiceError }> => new Promise((resolve) => {
    client.makeUnaryRequest('/test.Echo/Say', raw.serialize, raw.deserialize, Buffer.from(text), { deadline: Date.now() + 3000 }, (error, value) => resolve({ ...(error ? { error } : {}), ...(value ? { value } : {}) }));
  });

  it('unary: reaches the app through both sidecars (HTTP/2 on every hop)', async () => {
    const reply = await waitFor('a unary reply', async () => (await say('hello')).value);
    assert.equal(reply.toString(), 'echo hello');
  });

  it('server streaming and a gRPC error status come back unchanged', async () => {
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.makeServerStreamRequest('/test.Echo/Count', raw.serialize, raw.deserialize, Buffer.from('5'));
      call.on('data', (b: Buffer) => got.push(b.toString()));
      call.on('error', reject);
      call.on('end', () => resolve());
    });
    assert.deepEqual(got, ['1', '2', '3', '4', '5']);
    const { error } = await say('missing');
    assert.equal(error?.code, grpc.status.NOT_FOUND);
    assert.equal(error?.details, 'no such thing');
  });
});
