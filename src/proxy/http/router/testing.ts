/**
 * Test support for the router's unit tests: requests built from a few fields, and route
 * configurations compiled with an assertion that they have no problems.
 */
import assert from 'node:assert/strict';
import { compileRouteConfiguration, type CompileOptions } from './compile.ts';
import type { CompiledRoutes, RouteRequest } from './types.ts';

export interface RequestSpec {
  readonly method?: string;
  readonly authority?: string | undefined;
  readonly scheme?: string;
  readonly path?: string | undefined;
  /** Header names in any case; an array is several values (joined with ',' as the connection manager does). */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** The value `random()` returns (default 0). */
  readonly random?: number;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly tls?: { readonly presented: boolean; readonly validated: boolean };
  readonly sourceAddress?: string;
}

export function request(spec: RequestSpec = {}): RouteRequest {
  const headers = new Map<string, string | readonly string[]>();
  for (const [k, v] of Object.entries(spec.headers ?? {})) headers.set(k.toLowerCase(), v);
  const r = spec.random ?? 0;
  return {
    method: spec.method ?? 'GET',
    authority: 'authority' in spec ? spec.authority : 'example.com',
    scheme: spec.scheme ?? 'http',
    path: 'path' in spec ? spec.path : '/',
    headers: {
      get: (name) => {
        const v = headers.get(name);
        return v === undefined || typeof v === 'string' ? v : v.join(',');
      },
      values: (name) => headers.get(name),
    },
    random: () => r,
    ...(spec.metadata !== undefined ? { metadata: (filter: string) => spec.metadata?.[filter] } : {}),
    ...(spec.tls !== undefined ? { tls: spec.tls } : {}),
    ...(spec.sourceAddress !== undefined ? { sourceAddress: spec.sourceAddress } : {}),
  };
}

/** Compiles `proto`, failing the test on any problem. */
export function compiled(proto: Record<string, unknown>, options?: CompileOptions): CompiledRoutes {
  const { config, problems } = compileRouteConfiguration(proto, options);
  assert.deepEqual(problems, []);
  return config;
}

/** A route configuration with one virtual host for every domain (`*` included) and the given routes. */
export function oneHost(routes: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'test', virtualHosts: [{ name: 'vh', domains: ['*'], routes, ...extra }] };
}
