/**
 * Addresses and ports for local-mode workloads. Each sidecar gets a loopback address of its own (like a
 * pod IP; Linux routes all of 127/8 to loopback) where every port it binds is free; its app gets a free
 * port on 127.0.0.1. The proxy binds its admin port first, so that bind is the lock: two `weft run`s that
 * pick the same address at the same instant see the second one fail, and it moves on to the next.
 */
import { createServer } from 'node:net';
import { platform } from 'node:os';

/** The sidecar's outbound listener (the control plane's `virtualOutbound`), the app's `HTTP_PROXY`. */
export const OUTBOUND_PORT = 15001;

/** Ports a sidecar binds on its address besides the workload ports: admin, outbound, health, Prometheus. */
export const SIDECAR_PORTS: readonly number[] = [15000, OUTBOUND_PORT, 15021, 15090];

export function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port free on `host` right now (the kernel's choice). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Hands out loopback addresses (127.0.1.2 upwards) where the given ports are free, never the same one twice. */
export class LoopbackAddresses {
  readonly #taken = new Set<string>();
  #next = 2;

  /** The next address where every port of `ports` can be bound; 127.0.0.1 where only that exists (not Linux). */
  async take(ports: readonly number[]): Promise<string> {
    if (platform() !== 'linux') return '127.0.0.1';
    for (let tries = 0; tries < 253; tries++) {
      const address = `127.0.1.${this.#next}`;
      this.#next = this.#next >= 254 ? 2 : this.#next + 1;
      if (this.#taken.has(address)) continue;
      if (await allFree(address, ports)) {
        this.#taken.add(address);
        return address;
      }
    }
    throw new Error(`no loopback address 127.0.1.2-254 has ports ${ports.join(', ')} free`);
  }

  /** Gives `address` back (its workload stopped). */
  release(address: string): void {
    this.#taken.delete(address);
  }
}

async function allFree(host: string, ports: readonly number[]): Promise<boolean> {
  for (const port of ports) if (!(await canBind(host, port))) return false;
  return true;
}
