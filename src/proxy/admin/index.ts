/**
 * The proxy's admin side: the admin, health and Prometheus HTTP endpoints, the `/config_dump`
 * builder and its query (`resource`, `mask`, `name_regex`), `/stats` selection and Envoy-to-Prometheus
 * stat naming, and the proxy's named loggers whose levels `/logging` sets.
 */
export { AdminServer } from './admin-server.ts';
export type { AdminContext, AdminRole } from './admin-server.ts';
export { configDump } from './config-dump.ts';
export type { DumpOptions, DumpSources } from './config-dump.ts';
export { isLogLevel, LEVELS, Logger } from './logger.ts';
export type { LoggerName, LogLevel } from './logger.ts';
export { prometheusText, promName, statsText } from './prometheus.ts';
