/**
 * The benchmark's joining workloads: a child process of the fleet (fleet.ts) that connects the sidecar of
 * each new workload and reports when it holds its whole initial sync. A joining Envoy runs on a machine
 * of its own; here it shares the fleet's CPU, at the lowest priority (the fleet renices it), so that
 * decoding the newcomer's ~3 MB sync neither takes the CPU from, nor grows the heap of, the thousand
 * sidecars whose ACKs time the join.
 *
 * Messages (over Node's IPC channel): in `{ target, protocol, services }` once, then
 * `{ join: NodeSpec }` per join; out `'ready'` once, then `{ syncMs }` per join (undefined: not synced
 * within `timeoutMs` of the join message).
 */
import type { AdsProtocol, NodeSpec } from './sidecar-wire.ts';
import type { Sidecar } from './sidecar.ts';
import { Subscriptions } from './subscriptions.ts';

export type JoinerSetup = { readonly target: string; readonly protocol: AdsProtocol; readonly services: number };
export type JoinerRequest = { readonly join: NodeSpec; readonly index: number; readonly timeoutMs: number };
export type JoinerReply = { readonly syncMs: number | undefined };

let setup: { subscriptions: Subscriptions; target: string } | undefined;
const sidecars: Sidecar[] = [];

function join(req: JoinerRequest): void {
  if (setup === undefined) throw new Error('joiner: join before setup');
  const { subscriptions, target } = setup;
  const start = performance.now();
  let done = false;
  const finish = (syncMs: number | undefined) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    process.send?.({ syncMs } satisfies JoinerReply);
  };
  const timer = setTimeout(() => finish(undefined), req.timeoutMs);
  const sidecar = subscriptions.sidecar(req.index, target, req.join, (s, _head, at) => {
    if (!done && subscriptions.isSynced(s)) finish(at - start);
  });
  sidecars.push(sidecar);
  sidecar.start();
}

process.on('message', (msg: JoinerSetup | JoinerRequest) => {
  if ('join' in msg) return join(msg);
  setup = { subscriptions: new Subscriptions(msg.protocol, msg.services), target: msg.target };
  process.send?.('ready');
});
// The fleet disconnects when it closes: end every stream so that the process can exit.
process.on('disconnect', () => {
  for (const s of sidecars) s.close();
});
