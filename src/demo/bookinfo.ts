/**
 * The bookinfo mesh `weft demo` runs, as Istio's `samples/bookinfo/platform/kube/bookinfo.yaml` deploys
 * it: four Services on port 9080 and six workloads with Istio's labels (`app`, `version`) and service
 * accounts (`bookinfo-<app>`), each app a TypeScript program in `samples/bookinfo/`. reviews' versions
 * differ only by environment, as Istio's images do.
 */
import { fileURLToPath } from 'node:url';

export interface DemoWorkload {
  /** The workload (deployment) name, also the app's `POD_NAME`. */
  readonly name: string;
  readonly app: string;
  readonly version: string;
  readonly serviceAccount: string;
  /** The app's program in `samples/bookinfo/`. */
  readonly script: string;
  /** Set in the app's environment (reviews' version switches). */
  readonly env: Readonly<Record<string, string>>;
}

/** The port every bookinfo Service and workload serves (Istio's). */
export const BOOKINFO_PORT = 9080;

/** Where the apps and their Istio config live. */
export const SAMPLES_DIR = fileURLToPath(new URL('../../samples/bookinfo/', import.meta.url));

function workload(app: string, version: string, env: Record<string, string> = {}): DemoWorkload {
  return { name: `${app}-${version}`, app, version, serviceAccount: `bookinfo-${app}`, script: `${app}.ts`, env };
}

export const WORKLOADS: readonly DemoWorkload[] = [
  workload('details', 'v1'),
  workload('ratings', 'v1'),
  workload('reviews', 'v1', { ENABLE_RATINGS: 'false' }),
  workload('reviews', 'v2', { ENABLE_RATINGS: 'true', STAR_COLOR: 'black' }),
  workload('reviews', 'v3', { ENABLE_RATINGS: 'true', STAR_COLOR: 'red' }),
  workload('productpage', 'v1'),
];

/** The Services of `bookinfo.yaml` (port 9080, named `http` so the mesh speaks HTTP to them), as YAML. */
export function servicesYaml(): string {
  const apps = [...new Set(WORKLOADS.map((w) => w.app))];
  return apps.map((app) => `apiVersion: v1
kind: Service
metadata:
  name: ${app}
  labels: {app: ${app}, service: ${app}}
spec:
  selector: {app: ${app}}
  ports: [{name: http, port: ${BOOKINFO_PORT}}]
`).join('---\n');
}
