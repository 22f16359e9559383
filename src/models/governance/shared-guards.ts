import { bulkhead, circuitBreaker, ConsecutiveBreaker, handleWhen } from 'cockatiel';
import { KeelError } from '../../errors/index.ts';
import type { BreakerStoreV1, ConcurrencyStoreV1 } from '../../spec/index.ts';
import type { ResiliencePolicy } from './resilience-policy.ts';
import { SharedBreaker } from './shared-breaker.ts';
import { SharedBulkhead } from './shared-bulkhead.ts';
import type { ModelBulkhead } from './shared-bulkhead.ts';
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
  /**
   * Bulkhead slots shared by every process of the deployment (a store's, or Redis's), so a route's
   * `maxConcurrent` holds across all of them. Without it each process keeps its own bulkheads.
   */
  concurrency?: ConcurrencyStoreV1;
  /** How old this process's view of a shared breaker may grow before it is read again; default 250 ms. */
  refreshMs?: number;
}

const defaultRefreshMs = 250;
// The least a shared bulkhead slot's lease may be, so a short attempt timeout does not turn into a renewal storm.
const minimumLeaseMs = 1_000;

/**
 * Breakers and bulkheads are state shared by every call to a model (breakers per provider and
 * model; bulkheads per route and model), so one registry owns them. Both are this process's
 * unless a shared store is given: then every process on it sees a breaker another opened within
 * `refreshMs`, and a bulkhead's slots are counted across all of them. A shared slot's lease is the
 * route's attempt timeout (at least 1 s): a process that dies holding one frees it within that.
 */
export class SharedGuards {
  readonly #breakers = new Map<string, ModelBreaker>();
  readonly #bulkheadsByRoute = new Map<string, Map<string, ModelBulkhead>>();
  readonly #store: BreakerStoreV1 | undefined;
  readonly #concurrency: ConcurrencyStoreV1 | undefined;
  readonly #refreshMs: number;

  constructor(options: SharedGuardsOptions = {}) {
    this.#store = options.breakers;
    this.#concurrency = options.concurrency;
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

  bulkheadFor(route: string, model: string, policy: ResiliencePolicy): ModelBulkhead {
    // Found by route, then model, at every attempt: no key string is built on a call's path.
    let routeBulkheads = this.#bulkheadsByRoute.get(route);
    if (routeBulkheads === undefined) {
      routeBulkheads = new Map();
      this.#bulkheadsByRoute.set(route, routeBulkheads);
    }
    let guard = routeBulkheads.get(model);
    if (guard === undefined) {
      const { maxConcurrent, maxQueued } = policy.bulkhead;
      guard =
        this.#concurrency === undefined || policy.bulkhead.shared !== true
          ? bulkhead(maxConcurrent, maxQueued)
          : new SharedBulkhead({ key: `bulkhead:${route}→${model}`, store: this.#concurrency, maxConcurrent, maxQueued, leaseMs: Math.max(minimumLeaseMs, policy.attemptTimeoutMs) });
      routeBulkheads.set(model, guard);
    }
    return guard;
  }
}
