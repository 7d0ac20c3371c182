/**
 * The `envoy.service.discovery.v3.AggregatedDiscoveryService` gRPC service definition, built by hand
 * so that requests are decoded into small typed shapes and responses go out as bytes the protocol
 * assembled around already-encoded resources (no message objects on the push path).
 */

import type * as grpc from '@grpc/grpc-js';
import { messageType } from '../../xds/protos.ts';
import type { OutgoingResponse } from './responses.ts';
import { decodeDeltaRequest, decodeSotwRequest } from './wire.ts';
import type { DeltaRequest, SotwRequest } from './wire.ts';

export const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

// The bytes live in a scratch buffer until the next response is serialized: grpc-js copies them into
// its framed message before anything else runs (see responses.ts).
const serialize = (response: OutgoingResponse): Buffer => response.serialize();

/** Server-side definition: requests decoded, responses assembled when gRPC serializes them. */
export function adsServiceDefinition(): grpc.ServiceDefinition<{
  StreamAggregatedResources: grpc.handleBidiStreamingCall<SotwRequest, OutgoingResponse>;
  DeltaAggregatedResources: grpc.handleBidiStreamingCall<DeltaRequest, OutgoingResponse>;
}> {
  return {
    StreamAggregatedResources: {
      path: `/${ADS_SERVICE}/StreamAggregatedResources`,
      requestStream: true,
      responseStream: true,
      requestSerialize: () => { throw new Error('server-side definition'); },
      requestDeserialize: (buf: Buffer) => decodeSotwRequest(buf),
      responseSerialize: serialize,
      responseDeserialize: () => { throw new Error('server-side definition'); },
      originalName: 'streamAggregatedResources',
    },
    DeltaAggregatedResources: {
      path: `/${ADS_SERVICE}/DeltaAggregatedResources`,
      requestStream: true,
      responseStream: true,
      requestSerialize: () => { throw new Error('server-side definition'); },
      requestDeserialize: (buf: Buffer) => decodeDeltaRequest(buf),
      responseSerialize: serialize,
      responseDeserialize: () => { throw new Error('server-side definition'); },
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
