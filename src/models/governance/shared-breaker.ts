import { BrokenCircuitError, CircuitState } from 'cockatiel';
import type { BreakerStateNameV1, BreakerStateV1, BreakerStoreV1 } from '../../spec/index.ts';
import type { ResiliencePolicy } from './resilience-policy.ts';

/** What the resilient call needs of a breaker: cockatiel's in-memory one, or the shared one below. */
export interface ModelBreaker {
  readonly state: CircuitState;
  execute<T>(work: () => Promise<T>): Promise<T>;
}

/** This process's view of the shared state, with times on the local clock. */
interface BreakerView {
  state: BreakerStateNameV1;
  failures: number;
  /** Open: when a probe may be tried. Half-open: when the probe's lease lapses. */
  untilMs: number;
}

const stateOf: Record<BreakerStateNameV1, CircuitState> = { closed: CircuitState.Closed, open: CircuitState.Open, 'half-open': CircuitState.HalfOpen };

/**
 * A breaker whose state lives in a shared store (src/spec/breaker-store-v1.ts), so a provider that
 * fails for one process is shed by every process of the deployment. Failures are counted in the
 * store; a success writes only when there is something to clear, so a healthy provider costs one
 * read per `refreshMs` and no writes. The view is refreshed at most `refreshMs` after another
 * process changed the state, and at once after this process's own failures. If the store cannot be
 * reached the call goes on with the view it has: the breaker protects the provider, and an
 * unreachable store is no news about the provider.
 */
export class SharedBreaker implements ModelBreaker {
  readonly #key: string;
  readonly #store: BreakerStoreV1;
  readonly #policy: ResiliencePolicy;
  readonly #refreshMs: number;
  readonly #now: () => number;
  readonly #countsAgainst: (error: Error) => boolean;
  #view: BreakerView = { state: 'closed', failures: 0, untilMs: 0 };
  #readAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | undefined;

  constructor(options: { key: string; store: BreakerStoreV1; policy: ResiliencePolicy; refreshMs: number; countsAgainst: (error: Error) => boolean; now?: () => number }) {
    this.#countsAgainst = options.countsAgainst;
    this.#key = options.key;
    this.#store = options.store;
    this.#policy = options.policy;
    this.#refreshMs = options.refreshMs;
    this.#now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    return stateOf[this.#view.state];
  }

  async execute<T>(work: () => Promise<T>): Promise<T> {
    await this.#refresh();
    const probing = await this.#admit();
    let value: T;
    try {
      value = await work();
    } catch (error) {
      if (error instanceof Error && this.#countsAgainst(error)) {
        await this.#adoptFrom(this.#store.recordFailure({ key: this.#key, threshold: this.#policy.breaker.consecutiveFailures, openForMs: this.#policy.breaker.halfOpenAfterMs }));
      } else if (probing) {
        // The provider answered (a bad request, say): it is up.
        await this.#adoptFrom(this.#store.recordSuccess(this.#key));
      }
      throw error;
    }
    if (probing || this.#view.state !== 'closed' || this.#view.failures > 0) await this.#adoptFrom(this.#store.recordSuccess(this.#key));
    return value;
  }

  /** Whether this call may go to the provider: throws to shed it; true when it is the half-open probe. */
  async #admit(): Promise<boolean> {
    const view = this.#view;
    if (view.state === 'closed') return false;
    // Open and not yet due, or another caller's probe still running: shed without asking the store.
    if (this.#now() < view.untilMs) throw new BrokenCircuitError();
    try {
      const probe = await this.#store.tryProbe(this.#key, this.#policy.attemptTimeoutMs);
      this.#adopt(probe.state);
      if (!probe.granted) throw new BrokenCircuitError();
      return true;
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw error;
      return false;
    }
  }

  #refresh(): Promise<void> {
    if (this.#now() - this.#readAt < this.#refreshMs) return Promise.resolve();
    // Stamped before reading, so an unreachable store is asked once per interval, not once per call.
    this.#readAt = this.#now();
    this.#refreshing ??= this.#adoptFrom(this.#store.readBreaker(this.#key)).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #adoptFrom(reading: Promise<BreakerStateV1>): Promise<void> {
    try {
      this.#adopt(await reading);
    } catch {
      // Kept as it was: see the class comment.
    }
  }

  #adopt(state: BreakerStateV1): void {
    const now = this.#now();
    this.#view = { state: state.state, failures: state.consecutiveFailures, untilMs: now + state.remainingMs };
    this.#readAt = now;
  }
}
