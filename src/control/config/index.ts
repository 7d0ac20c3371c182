/**
 * The config store's public entry: `ConfigStore.open(...)` (watched directories + applied config,
 * persisted), the results of apply/delete, and the typed errors of opening it.
 */
export {
  ConfigStore, APPLIED, type ConfigStoreOptions, type ConfigListener, type ConfigSource, type InForce,
  type ApplyAction, type ApplyResult, type DeleteAction, type DeleteResult,
} from './store.ts';
export { StateError, STATE_FILE, JOURNAL_FILE } from './applied-state.ts';
export { ConfigDirError } from './watched-directory.ts';
export { resourceKey } from './canonical.ts';
