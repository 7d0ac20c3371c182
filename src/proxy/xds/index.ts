/** Public entry of the proxy's xDS client: the client, its status shapes, and the node's wire shape (built by `../bootstrap.ts`). */

export { XdsClient } from './xds-client.ts';
export type { AdsProtocol, ConnectionState, Readiness, ServerState, XdsClientOptions, XdsClientStatus } from './xds-client.ts';
export type { AdsMode } from './session.ts';
export type { HeldResource, Rejection, TypeStatus } from './type-state.ts';
export type { NodeProto } from './wire.ts';
export type { BackoffOptions } from './backoff.ts';
export { BootstrapError, XdsClientError } from './errors.ts';
export type { XdsClientErrorCode } from './errors.ts';
