/**
 * Test support: a full garbage collection on demand, without starting Node with `--expose-gc`, so
 * tests can check that something is no longer reachable (a `WeakRef` to it is cleared).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** Runs a full (mark-compact) collection; WeakRefs to unreachable objects are cleared by the next macrotask. */
export async function collectGarbage(): Promise<void> {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  // WeakRef targets stay alive until the end of the current job: let it end before and after collecting.
  await new Promise((r) => setImmediate(r));
  gc();
  await new Promise((r) => setImmediate(r));
}
