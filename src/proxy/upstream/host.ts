/**
 * Hosts, in two layers:
 * - `HostState`: what belongs to an upstream address and must survive EDS updates — its connection
 *   pools (created on first use), per-host counters for `/clusters` and its outlier monitor. Keyed by
 *   `ip:port` (or by DNS name for LOGICAL_DNS, whose address may move while its connections stay).
 * - `HostImpl`: the view the load balancer and router see (`UpstreamHost`): address, weight, health,
 *   locality, priority. A new one is made when any of those change; it points at the state. Its
 *   availability is the EDS health's, except that an ejected host (outlier detection) is unhealthy.
 */
import type { UpstreamHost } from '../core/contracts.ts';
import type { Availability, HealthStatus, Locality } from './endpoints.ts';
import { availability } from './endpoints.ts';
import type { HostMonitor } from './outlier-detection.ts';
import type { PickerHost } from './picker.ts';
import { addressString } from '../core/address.ts';

export { addressString };


/** Per-host counters, named as Envoy's host stats in `/clusters`. */
export interface HostCounters {
  cxActive: number;
  cxConnectFail: number;
  cxTotal: number;
  rqActive: number;
  rqError: number;
  rqSuccess: number;
  rqTimeout: number;
  rqTotal: number;
}

/** The connection side of a host; pools are attached by connection-pool.ts. */
export class HostState {
  readonly key: string;
  /** Where new connections go: the endpoint's IP, or the latest resolution of a LOGICAL_DNS name. */
  dialAddress: string;
  readonly port: number;
  readonly counters: HostCounters = { cxActive: 0, cxConnectFail: 0, cxTotal: 0, rqActive: 0, rqError: 0, rqSuccess: 0, rqTimeout: 0, rqTotal: 0 };
  /** Requests dispatched but not yet written to a connection. */
  rqPending = 0;
  /** ORIGINAL_DST: set on pick; cleanup removes hosts that stayed unused for a whole interval. */
  used = false;
  closed = false;
  /** Opaque pool slots owned by connection-pool.ts (index 0: HTTP/1.1, 1: HTTP/2). */
  readonly pools: [unknown, unknown] = [undefined, undefined];
  /** The outlier monitor while the host's cluster has outlier detection (set by the detector). */
  outlier: HostMonitor | undefined = undefined;

  constructor(key: string, dialAddress: string, port: number) {
    this.key = key;
    this.dialAddress = dialAddress;
    this.port = port;
  }
}

export interface HostInit {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly health: HealthStatus;
  readonly hostname: string;
  readonly priority: number;
  readonly locality: Locality;
  readonly localityKey: string;
}

export class HostImpl implements UpstreamHost, PickerHost {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly locality: string;
  readonly health: HealthStatus;
  readonly hostname: string;
  readonly priority: number;
  readonly localityInfo: Locality;
  readonly addressString: string;
  readonly state: HostState;
  /** The availability EDS health gives. */
  readonly #availability: Availability;

  constructor(init: HostInit, state: HostState) {
    this.address = init.address;
    this.port = init.port;
    this.weight = init.weight;
    this.health = init.health;
    this.#availability = availability(init.health);
    this.hostname = init.hostname;
    this.priority = init.priority;
    this.localityInfo = init.locality;
    this.locality = init.localityKey;
    this.addressString = addressString(init.address, init.port);
    this.state = state;
  }

  /** As EDS health says, but unhealthy while ejected by outlier detection (a draining host stays excluded). */
  get availability(): Availability {
    return this.state.outlier?.ejected === true && this.#availability !== 'excluded' ? 'unhealthy' : this.#availability;
  }

  get healthy(): boolean {
    return this.availability === 'healthy';
  }

  /** Whether outlier detection ejected this host (`/failed_outlier_check`). */
  get ejected(): boolean {
    return this.state.outlier?.ejected === true;
  }

  get outlier(): HostMonitor | undefined {
    return this.state.outlier;
  }

  get activeRequests(): number {
    return this.state.counters.rqActive;
  }

  /** Whether `init` describes this very host (so the same object can be kept across an update). */
  same(init: HostInit): boolean {
    return this.address === init.address && this.port === init.port && this.weight === init.weight && this.health === init.health
      && this.hostname === init.hostname && this.priority === init.priority && this.locality === init.localityKey;
  }
}
