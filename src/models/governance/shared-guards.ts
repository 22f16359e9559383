import { bulkhead, circuitBreaker, ConsecutiveBreaker, handleWhen } from 'cockatiel';
import type { BulkheadPolicy } from 'cockatiel';
import { KeelError } from '../../errors/index.ts';
import type { BreakerStoreV1 } from '../../spec/index.ts';
import type { ResiliencePolicy } from './resilience-policy.ts';
import { SharedBreaker } from './shared-breaker.ts';
import type { ModelBreaker } from './shared-breaker.ts';

/** Failures that say something about the provider's health (not about our request). */
export function countsAgainstBreaker(error: Error): boolean {
  return error instanceof KeelError && error.isRetryable;
}

export interface SharedGuardsOptions {
  /**
   * Breaker state shared by every process of the deployment (a store's, or Redis's). Without it
   * each process keeps its own breakers in memory.
   */
  breakers?: BreakerStoreV1;
  /** How old this process's view of a shared breaker may grow before it is read again; default 250 ms. */
  refreshMs?: number;
}

const defaultRefreshMs = 250;

/**
 * Breakers and bulkheads are state shared by every call to a model (breakers per provider and
 * model; bulkheads per route and model), so one registry owns them. Bulkheads are this process's;
 * breakers are too unless a shared breaker store is given, and then every process on it sees a
 * breaker another opened within `refreshMs`.
 */
export class SharedGuards {
  readonly #breakers = new Map<string, ModelBreaker>();
  readonly #bulkheads = new Map<string, BulkheadPolicy>();
  readonly #store: BreakerStoreV1 | undefined;
  readonly #refreshMs: number;

  constructor(options: SharedGuardsOptions = {}) {
    this.#store = options.breakers;
    this.#refreshMs = options.refreshMs ?? defaultRefreshMs;
  }

  breakerFor(model: string, policy: ResiliencePolicy): ModelBreaker {
    let breaker = this.#breakers.get(model);
    if (breaker === undefined) {
      breaker =
        this.#store === undefined
          ? circuitBreaker(handleWhen(countsAgainstBreaker), { halfOpenAfter: policy.breaker.halfOpenAfterMs, breaker: new ConsecutiveBreaker(policy.breaker.consecutiveFailures) })
          : new SharedBreaker({ key: `model:${model}`, store: this.#store, policy, refreshMs: this.#refreshMs, countsAgainst: countsAgainstBreaker });
      this.#breakers.set(model, breaker);
    }
    return breaker;
  }

  bulkheadFor(route: string, model: string, policy: ResiliencePolicy): BulkheadPolicy {
    const key = `${route}→${model}`;
    let guard = this.#bulkheads.get(key);
    if (guard === undefined) {
      guard = bulkhead(policy.bulkhead.maxConcurrent, policy.bulkhead.maxQueued);
      this.#bulkheads.set(key, guard);
    }
    return guard;
  }
}
