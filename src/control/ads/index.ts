/** Public entry of the ADS server (xDS over gRPC): the server, its observer and status types, and the service definitions. */

export { AdsServer } from './server.ts';
export type { AdsServerOptions, ListenOptions } from './server.ts';
export type { AdsMode, AdsObserver, StreamStatus, TypeStatus } from './types.ts';
export { ADS_SERVICE, adsClientDefinition, adsServiceDefinition } from './service.ts';
export { NameInterner } from './names.ts';
export type { OutgoingResponse } from './responses.ts';
