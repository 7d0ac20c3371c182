/**
 * Traffic simulation: where a call lands given the xDS resources one proxy received. Tests of the
 * generators use it to assert behaviour (cluster, endpoints) instead of comparing protos.
 */
export { simulate, isTlsRedirect } from './simulate.ts';
export type { ActionKind, Call, CallProtocol, ClusterTarget, Plain, ProxyConfig, SimError, SimErrorCode, SimResult } from './types.ts';
