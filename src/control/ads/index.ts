/** Public entry of the ADS server (xDS over gRPC): the server, its observer and status types, and the service's client definition. */

export { AdsServer } from './server.ts';
export type { AdsServerOptions, ListenOptions } from './server.ts';
export type { AdsMode, AdsObserver, StreamStatus, TypeStatus } from './types.ts';
export { ADS_SERVICE, adsClientDefinition, DELTA_ADS_PATH, SOTW_ADS_PATH } from './service.ts';
export { NameInterner } from './names.ts';
export type { OutgoingResponse } from './responses.ts';
