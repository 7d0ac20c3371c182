/**
 * The config `weft demo` starts with: bookinfo's Services, `bookinfo-gateway.yaml` (the Gateway and
 * its VirtualService; the server port moved when the demo's gateway port is not 8080) and
 * `destination-rule-all.yaml` (the v1/v2/v3 subsets Istio's tasks route to), read from
 * `samples/bookinfo/networking/` and validated like `weft apply` does.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatProblem, parseConfig, type AnyResource } from '../api/index.ts';
import { SAMPLES_DIR, servicesYaml } from './bookinfo.ts';

/** The port `bookinfo-gateway.yaml` serves on. */
export const GATEWAY_FILE_PORT = 8080;

export const DEMO_CONFIG_FILES: readonly string[] = ['bookinfo-gateway.yaml', 'destination-rule-all.yaml'];

/** The demo's starting config; throws listing every problem if a file is invalid. */
export async function demoConfig(gatewayPort: number): Promise<AnyResource[]> {
  const sources = [{ file: 'bookinfo services', text: servicesYaml() }];
  for (const name of DEMO_CONFIG_FILES) {
    const file = join(SAMPLES_DIR, 'networking', name);
    sources.push({ file, text: await readFile(file, 'utf8') });
  }
  const resources: AnyResource[] = [];
  const problems: string[] = [];
  for (const { file, text } of sources) {
    const set = parseConfig(text, file);
    problems.push(...set.problems.filter((p) => p.severity === 'error').map(formatProblem));
    resources.push(...set.resources);
  }
  if (problems.length > 0) throw new Error(`the demo's config is invalid:\n${problems.join('\n')}`);
  return gatewayPort === GATEWAY_FILE_PORT ? resources : resources.map((r) => movePort(r, gatewayPort));
}

/** A Gateway whose servers on 8080 listen on `port` instead; other resources unchanged. */
function movePort(resource: AnyResource, port: number): AnyResource {
  if (resource.kind !== 'Gateway') return resource;
  const spec = resource.spec as { servers?: { port?: { number?: number } }[] };
  const servers = spec.servers?.map((s) => (s.port?.number === GATEWAY_FILE_PORT ? { ...s, port: { ...s.port, number: port } } : s));
  return { ...resource, spec: { ...spec, servers } } as AnyResource;
}
