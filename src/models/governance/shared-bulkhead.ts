import { randomUUID } from 'node:crypto';
import { BulkheadRejectedError, TaskCancelledError } from 'cockatiel';
import type { ConcurrencyStoreV1 } from '../../spec/index.ts';

/** What the resilient call needs of a bulkhead: cockatiel's in-memory one, or the shared one below. */
export interface ModelBulkhead {
  execute<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export interface SharedBulkheadOptions {
  /** The limit's key in the store, e.g. `bulkhead:<route>→<model>`. */
  key: string;
  store: ConcurrencyStoreV1;
  maxConcurrent: number;
  /** Calls of this process that may wait for a slot; one more is refused at once. */
  maxQueued: number;
  /** How long a slot is held unless renewed; renewed every half of it while the call runs. */
  leaseMs: number;
}

// Between asks while waiting: a slot another process releases is found within this, at most.
const firstPollMs = 25;
const maxPollMs = 250;

/**
 * A bulkhead whose slots live in a shared store (src/spec/concurrency-store-v1.ts), so
 * `maxConcurrent` holds across every process of the deployment. Each call is its own holder: it
 * takes a slot before its work, renews the lease every half of it while the work (a stream to its
 * end) runs, and releases it after. A process that dies holding slots stops renewing them, and they
 * free themselves when their lease runs out. When the slots are full, up to `maxQueued` calls of
 * this process wait, asking again when a call of this process ends, at the store's hint of when a
 * lease runs out, or after a short backoff, whichever comes first (another process's release is
 * only seen by asking); a further one is refused with cockatiel's BulkheadRejectedError, as the
 * in-memory bulkhead refuses it. A waiting call gives up when `signal` aborts. A store that cannot
 * be reached fails the call with the store's error: the limit cannot be known to hold.
 */
export class SharedBulkhead implements ModelBulkhead {
  readonly #options: SharedBulkheadOptions;
  #waiting = 0;
  /** Wakes this process's waiting calls when one of its calls releases a slot. */
  readonly #released = new Set<() => void>();

  constructor(options: SharedBulkheadOptions) {
    this.#options = options;
  }

  async execute<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { key, store, leaseMs } = this.#options;
    if (signal?.aborted === true) throw new TaskCancelledError();
    const holder = randomUUID();
    await this.#acquire(holder, signal);
    // A failed renewal does not fail the call: its slot may lapse while it runs, letting one call
    // more in for the rest of it. The call itself is worth more than that brief excess.
    const renewal = setInterval(() => void store.renewSlot(key, holder, leaseMs).catch(() => false), Math.max(1, Math.floor(leaseMs / 2)));
    renewal.unref();
    try {
      return await work();
    } finally {
      clearInterval(renewal);
      // A release that fails leaves the slot to its lease.
      await store.releaseSlot(key, holder).catch(() => undefined);
      for (const wake of this.#released) wake();
    }
  }

  async #acquire(holder: string, signal: AbortSignal | undefined): Promise<void> {
    const { key, store, maxConcurrent, maxQueued, leaseMs } = this.#options;
    const request = { key, holder, limit: maxConcurrent, leaseMs };
    let grant = await store.acquireSlot(request);
    if (grant.granted) return;
    if (this.#waiting >= maxQueued) throw new BulkheadRejectedError(maxConcurrent, maxQueued);
    this.#waiting += 1;
    try {
      for (let round = 0; !grant.granted; round += 1) {
        const backoffMs = Math.min(maxPollMs, firstPollMs * 2 ** round);
        await this.#wait(Math.min(backoffMs, grant.retryAfterMs ?? backoffMs), signal);
        if (signal?.aborted === true) throw new TaskCancelledError();
        grant = await store.acquireSlot(request);
      }
    } finally {
      this.#waiting -= 1;
    }
  }

  /** Resolves after `ms`, when a call of this process releases a slot, or when `signal` aborts. */
  #wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#released.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#released.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
