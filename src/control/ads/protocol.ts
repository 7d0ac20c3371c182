/**
 * What the two ADS variants (state of the world, incremental) share: the context a connection gives
 * its protocol, the protocol interface, and the per-type bookkeeping both keep (what was sent, ACKed,
 * NACKed). Protocol rules follow Envoy's xDS protocol doc:
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol
 */

import type { Generated } from '../../xds/resource-server.ts';
import { PUSH_ORDER } from '../../xds/type-urls.ts';
import type { NameInterner } from './names.ts';
import type { OutgoingResponse } from './responses.ts';
import type { AdsMode, AdsObserver, TypeStatus } from './types.ts';

/** What a connection offers its protocol. Valid only while the stream is open. */
export interface ProtocolContext {
  readonly proxyId: string;
  readonly observer: AdsObserver;
  /** Identifier written in responses' `control_plane` field ('' for none). */
  readonly controlPlane: string;
  /** Resources of `typeUrl` for this proxy; undefined when generation failed (already reported). */
  generate(typeUrl: string, names: readonly string[] | undefined): Generated | undefined;
  /** A nonce unique within the stream. */
  nextNonce(): string;
  /**
   * Whether a response may be written now. When false (the client reads slower than the server
   * writes, or the server's write budget is spent), the protocol keeps what it owes as pending types
   * and the connection calls `flush()` once writing may resume.
   */
  readonly writable: boolean;
  /** Writes one response of `typeUrl` carrying `resources` resources and `removed` removals (delta). */
  write(response: OutgoingResponse, typeUrl: string, resources: number, removed: number): void;
  /** Resource-name lists shared by all streams of the server. */
  readonly names: NameInterner;
}

/** One variant of the protocol for one stream. Requests arrive in order; pushes come between requests. */
export interface Protocol<Request> {
  readonly mode: AdsMode;
  /** Handles one request (`receivedAt` from `performance.now()`), answering at once when needed. */
  onRequest(request: Request, receivedAt: number): void;
  /** Sends what changed for the subscribed types among `types` (undefined: all), in push order. */
  push(types: ReadonlySet<string> | undefined, changedAt: number): void;
  /** Sends what is pending, in push order, while the stream stays writable. */
  flush(): void;
  /** Types with a response pending (waiting for the stream to become writable). */
  readonly pending: number;
  status(): Record<string, TypeStatus>;
}

/** A response owed for one type: whether it must be sent even if unchanged, and the earliest change it carries. */
export interface Owed {
  readonly typeUrl: string;
  readonly force: boolean;
  readonly changedAt: number;
}

/** Push-order rank of each known type URL; others come after, first come. */
const RANK = new Map(PUSH_ORDER.map((t, i) => [t, i]));

/**
 * The responses a stream owes, at most one per type: a later request or push for a type already
 * pending merges into it (force if either forces; the earliest change), so a slow client costs a few
 * flags, never queued bytes, and gets the latest state when it catches up. Kept in a slot per known
 * type (in push order) rather than a map: a push adds and takes one on every stream.
 */
export class PendingTypes {
  readonly #slots: (Owed | undefined)[] = new Array<Owed | undefined>(PUSH_ORDER.length).fill(undefined);
  /** Types outside PUSH_ORDER, in arrival order. */
  readonly #others = new Map<string, Owed>();
  #size = 0;

  add(typeUrl: string, force: boolean, changedAt: number): void {
    const rank = RANK.get(typeUrl);
    const prev = rank === undefined ? this.#others.get(typeUrl) : this.#slots[rank];
    const owed: Owed = prev === undefined
      ? { typeUrl, force, changedAt }
      : { typeUrl, force: force || prev.force, changedAt: Math.min(changedAt, prev.changedAt) };
    if (prev === undefined) this.#size++;
    if (rank === undefined) this.#others.set(typeUrl, owed);
    else this.#slots[rank] = owed;
  }

  /** Removes and returns the first owed response in push order (then first come). */
  take(): Owed | undefined {
    if (this.#size === 0) return undefined;
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) {
      const owed = slots[i];
      if (owed !== undefined) {
        slots[i] = undefined;
        this.#size--;
        return owed;
      }
    }
    for (const [typeUrl, owed] of this.#others) {
      this.#others.delete(typeUrl);
      this.#size--;
      return owed;
    }
    return undefined;
  }

  get size(): number {
    return this.#size;
  }
}

/**
 * What SotW and delta share: the per-type states of one stream and the responses it owes. A push marks
 * every subscribed type it concerns as owed; `flush` sends owed responses in push order while the stream
 * is writable, through the variant's `send`.
 */
export abstract class StreamProtocol<State> {
  protected readonly ctx: ProtocolContext;
  protected readonly types = new Map<string, State>();
  protected readonly owed = new PendingTypes();

  constructor(ctx: ProtocolContext) {
    this.ctx = ctx;
  }

  push(types: ReadonlySet<string> | undefined, changedAt: number): void {
    for (const typeUrl of this.types.keys()) if (types === undefined || types.has(typeUrl)) this.owed.add(typeUrl, false, changedAt);
    this.flush();
  }

  flush(): void {
    while (this.owed.size > 0 && this.ctx.writable) {
      const owed = this.owed.take();
      if (owed !== undefined) this.send(owed);
    }
  }

  get pending(): number {
    return this.owed.size;
  }

  /** Generates and writes one owed response (the variant's wire format and bookkeeping). */
  protected abstract send(owed: Owed): void;
}

/** Bookkeeping of the exchange for one type on one stream. */
export class Exchange {
  versionSent: string | undefined;
  nonce: string | undefined;
  sentAt: number | undefined;
  /** `performance.now()` of the change the latest response carries, for ACK latency. */
  sentChangedAt = 0;
  versionAcked: string | undefined;
  ackedAt: number | undefined;
  nack: { version: string; message: string; at: number } | undefined;

  sent(version: string, nonce: string, changedAt: number): void {
    this.versionSent = version;
    this.nonce = nonce;
    this.sentAt = Date.now();
    this.sentChangedAt = changedAt;
  }

  /** Records an ACK of the latest response and reports it. */
  acked(ctx: ProtocolContext, typeUrl: string, version: string, now: number): void {
    this.versionAcked = version;
    this.ackedAt = Date.now();
    ctx.observer.ack?.({ proxyId: ctx.proxyId, typeUrl, version, latencyMs: Math.max(0, now - this.sentChangedAt) });
  }

  /** Records a NACK of the latest response (the version it rejected) and reports it. */
  nacked(ctx: ProtocolContext, typeUrl: string, message: string): void {
    const version = this.versionSent ?? '';
    this.nack = { version, message, at: Date.now() };
    ctx.observer.nack?.({ proxyId: ctx.proxyId, typeUrl, version, message });
  }

  status(subscribed: TypeStatus['subscribed'], extra?: Partial<TypeStatus>): TypeStatus {
    return {
      subscribed,
      ...(this.versionSent === undefined ? {} : { versionSent: this.versionSent, nonce: this.nonce, sentAt: this.sentAt }),
      ...(this.versionAcked === undefined ? {} : { versionAcked: this.versionAcked, ackedAt: this.ackedAt }),
      ...(this.nack === undefined ? {} : { nack: { ...this.nack } }),
      ...extra,
    };
  }
}

export function subscribedView(wildcard: boolean, names: Iterable<string>): TypeStatus['subscribed'] {
  const list = [...names].sort();
  if (!wildcard) return list;
  return list.length === 0 ? '*' : ['*', ...list];
}
