/**
 * The `envoy.service.discovery.v3.AggregatedDiscoveryService` gRPC service (paths in src/xds/ads-service.ts,
 * the server side in grpc-server.ts and grpc-call.ts): a client definition over plain objects for tests and tools.
 */

import type * as grpc from '@grpc/grpc-js';
import { messageType } from '../../xds/protos.ts';
import { ADS_SERVICE, DELTA_ADS_PATH, SOTW_ADS_PATH } from '../../xds/ads-service.ts';

export { ADS_SERVICE, DELTA_ADS_PATH, SOTW_ADS_PATH };

/**
 * A client-side definition over plain objects (protobufjs `fromObject` in, `toObject` out: enums as
 * names, Any expanded with `@type`). For tests and tools, not for the data path.
 */
export function adsClientDefinition(): grpc.ServiceDefinition {
  const method = (name: string, req: string, res: string): grpc.MethodDefinition<object, Record<string, unknown>> => {
    const reqType = messageType(`envoy.service.discovery.v3.${req}`);
    const resType = messageType(`envoy.service.discovery.v3.${res}`);
    return {
      path: `/${ADS_SERVICE}/${name}`,
      requestStream: true,
      responseStream: true,
      requestSerialize: (obj: object) => Buffer.from(reqType.encode(reqType.fromObject(obj)).finish()),
      requestDeserialize: (buf: Buffer) => reqType.toObject(reqType.decode(buf)),
      responseSerialize: (obj: object) => Buffer.from(resType.encode(resType.fromObject(obj)).finish()),
      responseDeserialize: (buf: Buffer) => resType.toObject(resType.decode(buf), { enums: String, longs: Number, json: true }),
    };
  };
  return {
    StreamAggregatedResources: method('StreamAggregatedResources', 'DiscoveryRequest', 'DiscoveryResponse'),
    DeltaAggregatedResources: method('DeltaAggregatedResources', 'DeltaDiscoveryRequest', 'DeltaDiscoveryResponse'),
  };
}
