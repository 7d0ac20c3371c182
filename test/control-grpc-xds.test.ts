/**
 * The control plane proven with a real, third-party xDS client: @grpc/grpc-js-xds (proxyless gRPC)
 * against a real `weft control` process, calling real gRPC backends registered as WorkloadEntries.
 * Default routing, an 80/20 split over DestinationRule subsets, header-match routing, fault abort with a
 * gRPC status, a config change under load, and a NACK that is reported while traffic keeps working.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { startControl, waitFor, type ControlProcess } from './support/control-process.ts';

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const parse = (b: Buffer): unknown => JSON.parse(b.toString());
const ECHO: grpc.ServiceDefinition = {
  Call: { path: '/weft.test.Echo/Call', requestStream: false, responseStream: false, requestSerialize: json, requestDeserialize: parse, responseSerialize: json, responseDeserialize: parse },
};
const TARGET = 'echo.default.svc.cluster.local:50051';
const NODE_ID = 'grpc~127.0.1.50~client.default~default.svc.cluster.local';

type EchoClient = grpc.Client & { Call: (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { version: string }) => void) => void };

async function backend(version: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(ECHO, { Call: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { version }) });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { server, port };
}

function call(client: EchoClient, headers: Record<string, string> = {}): Promise<{ version?: string; code?: number }> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k, v);
  return new Promise((resolve) => client.Call({}, md, { deadline: Date.now() + 5000 }, (e, r) => resolve(e ? { code: e.code } : { version: r!.version })));
}

async function tally(client: EchoClient, n: number, headers: Record<string, string> = {}): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => call(client, headers)));
    for (const r of batch) {
      const key = r.version ?? `code:${r.code}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

interface TypeStatus { versionSent?: string; versionAcked?: string; sentAt?: number; ackedAt?: number; nack?: { message: string; at: number } }

async function clientStatus(cp: ControlProcess): Promise<Record<string, TypeStatus> | undefined> {
  const streams = await cp.get('/debug/syncz') as { proxyId: string; types: Record<string, TypeStatus> }[];
  return streams.find((s) => s.proxyId === NODE_ID)?.types;
}

/** Applies config and waits until the gRPC client has ACKed (or NACKed) a response sent after it. */
async function applyAndSync(cp: ControlProcess, yaml: string, type = 'RouteConfiguration'): Promise<TypeStatus> {
  const t0 = Date.now();
  await cp.apply(yaml);
  return waitFor(`the client to answer a new ${type}`, async () => {
    const types = await clientStatus(cp);
    const s = Object.entries(types ?? {}).find(([url]) => url.endsWith(type))?.[1];
    if (s === undefined || (s.sentAt ?? 0) < t0) return undefined;
    const answered = (s.ackedAt ?? 0) >= (s.sentAt ?? 0) || (s.nack?.at ?? 0) >= (s.sentAt ?? 0);
    return answered ? s : undefined;
  });
}

const BASE = (ports: number[]) => `
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{name: grpc, port: 50051, targetPort: grpc}]
${ports.map((p, i) => `---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: echo-v${i + 1}}
spec:
  address: 127.0.0.1
  ports: {grpc: ${p}}
  labels: {app: echo, version: v${i + 1}}
`).join('')}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo}
spec:
  host: echo
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

const VS = (http: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo}
spec:
  hosts: [echo]
  http:
${http}`;

describe('weft control with a proxyless gRPC client (@grpc/grpc-js-xds)', () => {
  let cp: ControlProcess;
  let client: EchoClient;
  const backends: grpc.Server[] = [];

  before(async () => {
    const b1 = await backend('v1');
    const b2 = await backend('v2');
    backends.push(b1.server, b2.server);
    cp = await startControl();
    await cp.apply(BASE([b1.port, b2.port]));
    grpcXds.register();
    const bootstrap = {
      xds_servers: [{ server_uri: `127.0.0.1:${cp.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: NODE_ID, cluster: 'client', locality: { region: 'local', zone: 'a' }, metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' } },
    };
    const Client = grpc.makeGenericClientConstructor(ECHO, 'Echo');
    client = new Client(`xds:///${TARGET}`, grpc.credentials.createInsecure(), {
      'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap),
    } as grpc.ChannelOptions) as unknown as EchoClient;
  });

  after(async () => {
    client?.close();
    for (const s of backends) s.forceShutdown();
    await cp?.stop();
  });

  it('routes by default across every endpoint of the service', async () => {
    const counts = await tally(client, 200);
    assert.equal((counts.get('v1') ?? 0) + (counts.get('v2') ?? 0), 200, JSON.stringify([...counts]));
    assert.ok((counts.get('v1') ?? 0) > 40 && (counts.get('v2') ?? 0) > 40, JSON.stringify([...counts]));
  });

  it('splits 80/20 across DestinationRule subsets', async () => {
    await applyAndSync(cp, VS(`  - route:
    - {destination: {host: echo, subset: v1}, weight: 80}
    - {destination: {host: echo, subset: v2}, weight: 20}
`));
    const counts = await tally(client, 1000);
    const v1 = counts.get('v1') ?? 0;
    assert.equal(v1 + (counts.get('v2') ?? 0), 1000, JSON.stringify([...counts]));
    // 1,000 calls at p = 0.8: the standard deviation is ~13, so ±60 is over 4 sigma.
    assert.ok(v1 > 740 && v1 < 860, `v1 got ${v1} of 1000`);
  });

  it('routes on a header match', async () => {
    await applyAndSync(cp, VS(`  - match: [{headers: {x-user: {exact: jason}}}]
    route: [{destination: {host: echo, subset: v2}}]
  - route: [{destination: {host: echo, subset: v1}}]
`));
    assert.deepEqual([...(await tally(client, 100, { 'x-user': 'jason' }))], [['v2', 100]]);
    assert.deepEqual([...(await tally(client, 100, { 'x-user': 'mary' }))], [['v1', 100]]);
  });

  it('aborts a share of calls with a gRPC status (fault injection)', async () => {
    await applyAndSync(cp, VS(`  - fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 50}}}
    route: [{destination: {host: echo, subset: v1}}]
`));
    const counts = await tally(client, 400);
    const aborted = counts.get(`code:${grpc.status.UNAVAILABLE}`) ?? 0;
    assert.equal(aborted + (counts.get('v1') ?? 0), 400, JSON.stringify([...counts]));
    assert.ok(aborted > 140 && aborted < 260, `aborted ${aborted} of 400`);
  });

  it('applies a change while calls are in flight without failing any', async () => {
    await applyAndSync(cp, VS('  - route: [{destination: {host: echo, subset: v1}}]\n'));
    let running = true;
    const failures: number[] = [];
    const seen = new Set<string>();
    const load = (async () => {
      while (running) {
        for (const r of await Promise.all(Array.from({ length: 20 }, () => call(client)))) {
          if (r.code !== undefined) failures.push(r.code);
          else seen.add(r.version!);
        }
      }
    })();
    await applyAndSync(cp, VS('  - route: [{destination: {host: echo, subset: v2}}]\n'));
    await waitFor('calls to reach v2', () => (seen.has('v2') ? true : undefined));
    running = false;
    await load;
    assert.deepEqual(failures, []);
  });

  it('reports a NACK in /debug/syncz and keeps clients on their last good config', async () => {
    // grpc-js-xds rejects clusters with LEAST_REQUEST load balancing; weft accepts the DestinationRule.
    const status = await applyAndSync(cp, `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo}
spec:
  host: echo
  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`, 'Cluster');
    assert.ok(status.nack !== undefined, `expected a NACK, got ${JSON.stringify(status)}`);
    assert.match(status.nack.message, /LEAST_REQUEST|lb_policy|load/i);
    assert.deepEqual([...(await tally(client, 50))], [['v2', 50]]);
  });
});
