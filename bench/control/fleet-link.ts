/**
 * The orchestrator's handle on the sidecar fleet (fleet.ts): forks it (optionally pinned to CPUs with
 * taskset) and turns its IPC request/reply pairs into typed calls.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ChangeResult, ConnectResult, Counters, FleetReply, FleetRequest } from './fleet-protocol.ts';
import type { AdsProtocol } from './sidecar-wire.ts';

const FLEET = join(import.meta.dirname, 'fleet.ts');

export interface FleetLink {
  readonly pid: number;
  connect(xdsPort: number, proxies: number, services: number, timeoutMs: number, protocol: AdsProtocol): Promise<ConnectResult>;
  change(httpUrl: string, yaml: string, typeUrl: string, timeoutMs: number): Promise<ChangeResult>;
  join(typeUrl: string, timeoutMs: number): Promise<ChangeResult>;
  counters(): Promise<Counters>;
  /** Closes every stream and waits for the process to exit (killing it if it does not). */
  close(): Promise<void>;
}

export async function startFleet(cpus: string | undefined): Promise<FleetLink> {
  // taskset execs node in place, so fork's IPC channel still reaches the fleet.
  // --expose-gc: the fleet collects its own garbage before each change (see fleet.ts).
  const child: ChildProcess = cpus === undefined
    ? fork(FLEET, [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : fork(FLEET, [], { execPath: 'taskset', execArgv: ['-c', cpus, process.execPath, '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    for (const w of waiting.values()) w.reject(new Error('the sidecar fleet exited'));
    waiting.clear();
    resolve();
  }));
  child.on('message', (reply: FleetReply) => {
    const w = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.ok) w?.resolve(reply.result);
    else w?.reject(new Error(`sidecar fleet: ${reply.error}`));
  });
  await new Promise<void>((resolve, reject) => {
    waiting.set(0, { resolve: () => resolve(), reject });
  });
  const call = <T>(request: FleetRequest): Promise<T> => new Promise((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    child.send({ id, request });
  });
  return {
    pid: child.pid!,
    connect: (xdsPort, proxies, services, timeoutMs, protocol) => call({ cmd: 'connect', xdsPort, proxies, services, timeoutMs, protocol }),
    change: (httpUrl, yaml, typeUrl, timeoutMs) => call({ cmd: 'change', httpUrl, yaml, typeUrl, timeoutMs }),
    join: (typeUrl, timeoutMs) => call({ cmd: 'join', typeUrl, timeoutMs }),
    counters: () => call({ cmd: 'counters' }),
    close: async () => {
      if (child.connected) await call({ cmd: 'close' }).catch(() => undefined);
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}
