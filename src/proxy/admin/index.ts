/**
 * The proxy's admin side: the admin, health and Prometheus HTTP endpoints, the `/config_dump`
 * builder, Envoy-to-Prometheus stat naming, and the process-wide logger whose level `/logging` sets.
 */
export { AdminServer } from './admin-server.ts';
export type { AdminContext, AdminRole } from './admin-server.ts';
export { configDump, resourceJson } from './config-dump.ts';
export type { DumpOptions, DumpSources } from './config-dump.ts';
export { isLogLevel, LEVELS, Logger } from './logger.ts';
export type { LogLevel } from './logger.ts';
export { prometheusText, promName, statsText } from './prometheus.ts';
