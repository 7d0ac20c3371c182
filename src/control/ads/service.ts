/**
 * The `envoy.service.discovery.v3.AggregatedDiscoveryService` gRPC service definition, built by hand
 * so that requests are decoded into small typed shapes and responses go out as bytes the protocol
 * already encoded (no message objects on the push path).
 */

import type * as grpc from '@grpc/grpc-js';
import { messageType } from '../../xds/protos.ts';
import { decodeDeltaRequest, decodeSotwRequest } from './wire.ts';
import type { DeltaRequest, SotwRequest } from './wire.ts';

export const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

const passBytes = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Server-side definition: requests decoded, responses pre-encoded. */
export function adsServiceDefinition(): grpc.ServiceDefinition<{
  StreamAggregatedResources: grpc.handleBidiStreamingCall<SotwRequest, Uint8Array>;
  DeltaAggregatedResources: grpc.handleBidiStreamingCall<DeltaRequest, Uint8Array>;
}> {
  return {
    StreamAggregatedResources: {
      path: `/${ADS_SERVICE}/StreamAggregatedResources`,
      requestStream: true,
      responseStream: true,
      requestSerialize: () => { throw new Error('server-side definition'); },
      requestDeserialize: (buf: Buffer) => decodeSotwRequest(buf),
      responseSerialize: passBytes,
      responseDeserialize: (buf: Buffer) => buf,
      originalName: 'streamAggregatedResources',
    },
    DeltaAggregatedResources: {
      path: `/${ADS_SERVICE}/DeltaAggregatedResources`,
      requestStream: true,
      responseStream: true,
      requestSerialize: () => { throw new Error('server-side definition'); },
      requestDeserialize: (buf: Buffer) => decodeDeltaRequest(buf),
      responseSerialize: passBytes,
      responseDeserialize: (buf: Buffer) => buf,
      originalName: 'deltaAggregatedResources',
    },
  };
}

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
