/**
 * The registry's public entry: the `Registry` (config + registered proxies → `RegistrySnapshot`), the
 * pure builders behind it (for tests and tools), and the model types.
 */
export { Registry, type RegistryOptions, type RegistryListener, type ProxyWorkload } from './registry.ts';
export type { RegistryChange } from './changes.ts';
export { buildRegistrySnapshot } from './snapshot.ts';
export { servicesFromConfig } from './services.ts';
export { workloadsFromConfig, workloadKey } from './workloads.ts';
export { serviceHostname, selects } from './names.ts';
export type { Endpoint, RegistryConfig, RegistrySnapshot, Resolution, Service, ServicePort, Workload } from './model.ts';
