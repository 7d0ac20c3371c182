/**
 * Interop: a real xDS client (@grpc/grpc-js-xds, state of the world) resolves `xds:///echo` through
 * this ADS server (LDS → RDS → CDS → EDS, resources from the fake resource server) and calls a real
 * gRPC server at the endpoint it learned. Proves the hand-written wire encoding and the protocol
 * sequencing against an independent implementation.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { FakeResourceServer } from '../../xds/fake-resource-server.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { AdsServer } from './server.ts';
import { RecordingObserver } from './testing.ts';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const bytes = (b: Buffer): Buffer => b;
const ECHO: grpc.ServiceDefinition = {
  Echo: { path: '/weft.test.Echo/Echo', requestStream: false, responseStream: false, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes },
};

function serveResources(resources: FakeResourceServer, upstreamPort: number): void {
  resources.set(TYPE.listener, [{
    name: 'echo',
    apiListener: { apiListener: { '@type': HCM, statPrefix: 'echo', rds: { routeConfigName: 'echo-route', configSource: { ads: {}, resourceApiVersion: 'V3' } }, httpFilters: [{ name: 'router', typedConfig: { '@type': ROUTER } }] } },
  }]);
  resources.set(TYPE.route, [{ name: 'echo-route', virtualHosts: [{ name: 'echo', domains: ['*'], routes: [{ match: { prefix: '' }, route: { cluster: 'echo-cluster' } }] }] }]);
  resources.set(TYPE.cluster, [{ name: 'echo-cluster', type: 'EDS', lbPolicy: 'ROUND_ROBIN', edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' } } }]);
  resources.set(TYPE.endpoint, [{
    clusterName: 'echo-cluster',
    endpoints: [{
      locality: { region: 'local', zone: 'a' },
      loadBalancingWeight: { value: 1 },
      lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: upstreamPort } } } }],
    }],
  }]);
}

describe('ADS with @grpc/grpc-js-xds as the client', () => {
  const resources = new FakeResourceServer();
  const observer = new RecordingObserver();
  const ads = new AdsServer({ resources, observer });
  const upstream = new grpc.Server();
  let adsPort = 0;

  before(async () => {
    upstream.addService(ECHO, { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.concat([Buffer.from('echo:'), call.request])) });
    const upstreamPort = await new Promise<number>((resolve, reject) => upstream.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    serveResources(resources, upstreamPort);
    adsPort = await ads.start({ host: '127.0.0.1', port: 0 });
    grpcXds.register();
  });
  after(async () => {
    await ads.stop();
    upstream.forceShutdown();
  });

  it('resolves a target through LDS, RDS, CDS and EDS, ACKs every type, and routes a call', async () => {
    const bootstrap = {
      xds_servers: [{ server_uri: `127.0.0.1:${adsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'grpc-peer', cluster: 'test', locality: { region: 'local', zone: 'a' } },
    };
    const Client = grpc.makeGenericClientConstructor(ECHO, 'Echo');
    const client = new Client('xds:///echo', grpc.credentials.createInsecure(), {
      'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap),
    } as grpc.ChannelOptions);
    try {
      const reply = await new Promise<Buffer>((resolve, reject) => {
        (client as unknown as { Echo: (req: Buffer, opts: grpc.CallOptions, cb: (e: Error | null, r?: Buffer) => void) => void })
          .Echo(Buffer.from('hi'), { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r!)));
      });
      assert.equal(reply.toString(), 'echo:hi');
      for (const typeUrl of [TYPE.listener, TYPE.route, TYPE.cluster, TYPE.endpoint]) {
        await observer.waitFor((e) => e.kind === 'ack' && e.typeUrl === typeUrl && e.proxyId === 'grpc-peer');
      }
      assert.equal(observer.events.filter((e) => e.kind === 'nack').length, 0);
      const status = ads.status().find((s) => s.proxyId === 'grpc-peer');
      assert.deepEqual(status?.types[TYPE.route]?.subscribed, ['echo-route']);
    } finally {
      client.close();
    }
  });
});
