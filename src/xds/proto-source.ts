/**
 * Where Envoy's `.proto` files come from: the copy @grpc/grpc-js-xds ships in its `deps/` folder (Envoy,
 * xds/udpa, googleapis, protoc-gen-validate) plus protobufjs' own `google/protobuf` files, and how an
 * import names a file in them. Shared by the lazy loader (protos.ts) and the descriptor generator.
 */

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Root } from 'protobufjs';

/** Well-known types every root gets (protobufjs bundles them): tiny, and named by many Envoy fields. */
export const WELL_KNOWN: readonly string[] = ['any', 'duration', 'struct', 'wrappers', 'timestamp', 'empty'].map((n) => `google/protobuf/${n}.proto`);

/** Folders searched for imports, in order: Envoy, xds/udpa, googleapis, protoc-gen-validate, protobufjs (descriptor.proto). */
export function includeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const deps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const pbjs = path.dirname(require.resolve('protobufjs/package.json'));
  return [path.join(deps, 'envoy-api'), path.join(deps, 'xds'), path.join(deps, 'googleapis'), path.join(deps, 'protoc-gen-validate'), pbjs];
}

/** Makes `root` find imports under `dirs`; a name found nowhere stays as it is (protobufjs serves its bundled google/protobuf/*.proto by that name). */
export function resolveImportsIn(root: Root, dirs: readonly string[]): void {
  root.resolvePath = (_origin: string, target: string): string => {
    if (path.isAbsolute(target)) return target;
    for (const dir of dirs) {
      const candidate = path.join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
}

/** A loaded file's name relative to the include dir it came from (bundled names are already relative). */
export function relativeProtoPath(dirs: readonly string[], file: string): string {
  if (!path.isAbsolute(file)) return file;
  for (const dir of dirs) {
    const rel = path.relative(dir, file);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  }
  return file;
}
