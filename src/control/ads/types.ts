/**
 * The ADS server's outward contracts: what it reports to the control plane (observer callbacks for
 * metrics and logs) and what it shows in `/debug/syncz` (status snapshots). Pure types.
 */

export type AdsMode = 'sotw' | 'delta';

/**
 * Callbacks the server makes as things happen; all optional, all synchronous and cheap (they run on
 * the push path). `proxyId` is the node id; it is undefined only before a stream announced its node.
 */
export interface AdsObserver {
  /** The number of open, accepted streams changed. */
  connections?(count: number): void;
  /** A response was written: its type, size in bytes, and how many resources (and removals, delta) it carried. */
  pushSent?(info: { readonly proxyId: string; readonly typeUrl: string; readonly bytes: number; readonly resources: number; readonly removed: number; readonly mode: AdsMode }): void;
  /**
   * Every stream a push concerned was handled (its responses generated and handed to the transport); `latencyMs`
   * runs from the earliest change among the pushes handled since the previous report.
   */
  pushDone?(info: { readonly latencyMs: number; readonly streams: number }): void;
  /** The proxy ACKed a response; `latencyMs` runs from the change that caused it (`PushEvent.changedAt`, or the request it answered). */
  ack?(info: { readonly proxyId: string; readonly typeUrl: string; readonly version: string; readonly latencyMs: number }): void;
  /** The proxy NACKed a response: it keeps its previous config; the server does not resend this version. */
  nack?(info: { readonly proxyId: string; readonly typeUrl: string; readonly version: string; readonly message: string }): void;
  /** A request arrived, decoded (tests and tools record them; not needed on the data path). */
  request?(info: { readonly mode: AdsMode; readonly request: unknown }): void;
  /** A stream failed or was refused (`code`: `REFUSED`, `GENERATE`, `STREAM`, `PROTOCOL`). */
  streamError?(info: { readonly proxyId: string | undefined; readonly peer: string; readonly code: string; readonly message: string }): void;
}

/** Per type URL, what the stream asked for and where the exchange stands. Times are epoch milliseconds. */
export interface TypeStatus {
  /** `'*'` for a wildcard subscription alone; otherwise the names (with `'*'` first when mixed). */
  readonly subscribed: '*' | readonly string[];
  readonly versionSent?: string;
  readonly nonce?: string;
  readonly sentAt?: number;
  readonly versionAcked?: string;
  readonly ackedAt?: number;
  readonly nack?: { readonly version: string; readonly message: string; readonly at: number };
  /** Delta only: how many resources the client holds, as far as the server knows. */
  readonly resourcesKnown?: number;
}

export interface StreamStatus {
  readonly proxyId: string;
  readonly connectedAt: number;
  readonly peer: string;
  readonly mode: AdsMode;
  /** Keyed by type URL. */
  readonly types: Readonly<Record<string, TypeStatus>>;
}
