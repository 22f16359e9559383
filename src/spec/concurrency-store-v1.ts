/**
 * Concurrency-limit (bulkhead) store specification, version 1: where the slots of a limit live when
 * every process of a deployment must respect it together, so `maxConcurrent: 2` means two calls in
 * flight across all of them. Types only. Each operation is one atomic step on the store (a
 * transaction, a script), and the store's own clock measures every time: callers pass and receive
 * durations only, so processes whose clocks disagree still agree on when a lease has lapsed.
 *
 * A slot is held by a `holder` (one id per attempt) under a lease. A holder that dies without
 * releasing stops renewing, and its slot frees itself when the lease runs out.
 */

export interface SlotRequestV1 {
  /** The limit, e.g. a route and model. */
  key: string;
  /** Who asks: unique per attempt. Asking again while holding renews the slot and is granted. */
  holder: string;
  /** Slots the key allows at once. */
  limit: number;
  /** How long the slot is held unless renewed or released. */
  leaseMs: number;
}

export interface SlotGrantV1 {
  /** True: the caller holds a slot for `leaseMs`. */
  granted: boolean;
  /** Slots held on the key after this step (live leases only), the caller's included when granted. */
  held: number;
  /** Not granted: ms until the earliest live lease runs out, a hint for when to ask again. */
  retryAfterMs?: number;
}

export interface ConcurrencyStoreV1 {
  readonly concurrencySpecificationVersion: 'v1';
  /**
   * Atomically: removes the key's expired slots, then grants one to `holder` if fewer than `limit`
   * live slots are held (or the holder already holds one, which is renewed).
   */
  acquireSlot(request: SlotRequestV1): Promise<SlotGrantV1>;
  /** Extends a live slot to `leaseMs` from now. False: the holder holds none (released, or lapsed and taken). */
  renewSlot(key: string, holder: string, leaseMs: number): Promise<boolean>;
  /** Frees the holder's slot; releasing one not held does nothing. */
  releaseSlot(key: string, holder: string): Promise<void>;
}
