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
  /** Open: when a probe may be tried. Half-open: when the probe's lease lapses. */
  untilMs: number;
}

const stateOf: Record<BreakerStateNameV1, CircuitState> = { closed: CircuitState.Closed, open: CircuitState.Open, 'half-open': CircuitState.HalfOpen };

/**
 * A breaker whose state lives in a shared store (src/spec/breaker-store-v1.ts), so a provider that
 * fails for one process is shed by every process of the deployment. Each process counts its own
 * consecutive failures, as an in-memory breaker does (another process's successes do not reset
 * them: a provider can fail for one process only, and that is still worth shedding everywhere);
 * reaching the threshold opens the shared breaker for everyone. Only the half-open probe's holder
 * closes it. A healthy provider costs one read per `refreshMs` and no writes. A process learns
 * of a change another made within `refreshMs`, and of its own at once. If the store cannot be
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
  #view: BreakerView = { state: 'closed', untilMs: 0 };
  /** This process's consecutive failures since its last success. */
  #localFailures = 0;
  #readAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | undefined;
  // Store answers can arrive out of order (a read begun before a failure was recorded may end
  // after it): each request is numbered, and an answer older than the view's is dropped.
  #issued = 0;
  #applied = 0;

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
      if (error instanceof Error && this.#countsAgainst(error)) await this.#failed(probing);
      // The provider answered (a bad request, say): it is up.
      else if (probing) await this.#adoptFrom(this.#store.recordSuccess(this.#key));
      throw error;
    }
    this.#localFailures = 0;
    if (probing) await this.#adoptFrom(this.#store.recordSuccess(this.#key));
    return value;
  }

  /** A failure that says something about the provider: a failed probe reopens, the threshold opens. */
  async #failed(probing: boolean): Promise<void> {
    this.#localFailures += 1;
    if (!probing && this.#localFailures < this.#policy.breaker.consecutiveFailures) return;
    this.#localFailures = 0;
    const openForMs = this.#policy.breaker.halfOpenAfterMs;
    // Open here at once, whatever the store answers (or if it cannot be reached).
    this.#applied = ++this.#issued;
    this.#view = { state: 'open', untilMs: this.#now() + openForMs };
    await this.#adoptFrom(this.#store.recordFailure({ key: this.#key, threshold: 1, openForMs }));
  }

  /** Whether this call may go to the provider: throws to shed it; true when it is the half-open probe. */
  async #admit(): Promise<boolean> {
    const view = this.#view;
    if (view.state === 'closed') return false;
    // Open and not yet due, or another caller's probe still running: shed without asking the store.
    if (this.#now() < view.untilMs) throw new BrokenCircuitError();
    try {
      const order = ++this.#issued;
      const probe = await this.#store.tryProbe(this.#key, this.#policy.attemptTimeoutMs);
      this.#adopt(probe.state, order);
      if (probe.granted) return true;
      // Closed meanwhile by another process's probe: an ordinary call.
      if (probe.state.state === 'closed') return false;
      throw new BrokenCircuitError();
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
    const order = ++this.#issued;
    try {
      this.#adopt(await reading, order);
    } catch {
      // Kept as it was: see the class comment.
    }
  }

  #adopt(state: BreakerStateV1, order: number): void {
    if (order < this.#applied) return;
    this.#applied = order;
    const now = this.#now();
    this.#view = { state: state.state, untilMs: now + state.remainingMs };
    this.#readAt = now;
  }
}
