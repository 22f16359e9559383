import type { StopRequestV1, StoreV1 } from '../spec/index.ts';

export interface LeaseHeartbeatOptions {
  store: StoreV1;
  runId: string;
  owner: string;
  leaseMs: number;
  /**
   * `performance.now()` when the request that took the lease was sent. The store set the expiry
   * at its own time of receipt plus `leaseMs`, so the lease lasts at least until this plus
   * `leaseMs`, whatever the store's clock says.
   */
  leasedAt: number;
  /** The lease is gone, or can no longer be shown to hold: stop touching the run. */
  onLost: (reason: string) => void;
  onStopRequested: (request: StopRequestV1) => void;
}

/**
 * Keeps a run's lease while it executes. Renewals go out at min(lease/3, 1 s), which is also how a
 * stop request reaches the worker. A renewal that fails (a dropped connection, a store restarting)
 * is retried with a growing delay for as long as the lease is known to hold; the run is given up
 * only when no renewal succeeded before the last known expiry, less a margin for the steps to stop,
 * or when the store says another worker holds it. A renewal that hangs is bounded the same way.
 */
export class LeaseHeartbeat {
  /** Renewals that failed and were retried, for tests and diagnostics. */
  failedRenewals = 0;
  readonly #options: LeaseHeartbeatOptions;
  readonly #intervalMs: number;
  readonly #marginMs: number;
  /** `performance.now()` before which the lease certainly holds. */
  #holdsUntil: number;
  #failuresInRow = 0;
  #renewTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #ended = false;
  #lastError = '';

  constructor(options: LeaseHeartbeatOptions) {
    this.#options = options;
    this.#intervalMs = Math.max(50, Math.min(1_000, Math.floor(options.leaseMs / 3)));
    this.#marginMs = Math.min(1_000, Math.floor(options.leaseMs / 10));
    this.#holdsUntil = options.leasedAt + options.leaseMs;
  }

  start(): void {
    this.#armExpiry();
    this.#schedule(this.#intervalMs);
  }

  /** Stops renewing; the lease is left as it is (released or handed back by the caller). */
  stop(): void {
    this.#ended = true;
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#expiryTimer);
  }

  #schedule(delayMs: number): void {
    this.#renewTimer = setTimeout(() => void this.#renew(), delayMs);
    this.#renewTimer.unref();
  }

  /** Fires when the lease may be about to expire with no renewal confirmed: give the run up. */
  #armExpiry(): void {
    clearTimeout(this.#expiryTimer);
    const remaining = this.#holdsUntil - this.#marginMs - performance.now();
    const why = () => (this.#failuresInRow === 0 ? 'no lease renewal came back in time' : `lease renewal failed ${this.#failuresInRow} times in a row (${this.#lastError})`);
    this.#expiryTimer = setTimeout(() => this.#lose(`${why()}; the lease on run ${this.#options.runId} may expire, so the run is left for another worker`), Math.max(0, remaining));
    this.#expiryTimer.unref();
  }

  async #renew(): Promise<void> {
    const { store, runId, owner, leaseMs } = this.#options;
    const sentAt = performance.now();
    let renewal;
    try {
      renewal = await store.renewLease(runId, owner, leaseMs);
    } catch (error) {
      if (this.#ended) return;
      this.failedRenewals += 1;
      this.#failuresInRow += 1;
      this.#lastError = error instanceof Error ? error.message : String(error);
      // Retry soon, then less often, but never past the point where the lease could lapse.
      const backoff = Math.min(this.#intervalMs, 50 * 2 ** (this.#failuresInRow - 1));
      this.#schedule(Math.max(0, Math.min(backoff, this.#holdsUntil - this.#marginMs - performance.now())));
      return;
    }
    if (this.#ended) return;
    if (!renewal.held) {
      this.#lose(`worker ${owner} no longer holds the lease on run ${runId}`);
      return;
    }
    this.#failuresInRow = 0;
    this.#holdsUntil = sentAt + leaseMs;
    this.#armExpiry();
    if (renewal.stopRequested !== null) this.#options.onStopRequested(renewal.stopRequested);
    this.#schedule(this.#intervalMs);
  }

  #lose(reason: string): void {
    if (this.#ended) return;
    this.stop();
    this.#options.onLost(reason);
  }
}
