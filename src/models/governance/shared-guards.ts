import { bulkhead, circuitBreaker, ConsecutiveBreaker, handleWhen } from 'cockatiel';
import type { BulkheadPolicy, CircuitBreakerPolicy } from 'cockatiel';
import { KeelError } from '../../errors/index.ts';
import type { ResiliencePolicy } from './resilience-policy.ts';

/** Failures that say something about the provider's health (not about our request). */
export function countsAgainstBreaker(error: Error): boolean {
  return error instanceof KeelError && error.isRetryable;
}

/**
 * Breakers and bulkheads are state shared by every call to a model in this process (breakers per
 * provider and model; bulkheads per route and model), so one registry owns them.
 */
export class SharedGuards {
  readonly #breakers = new Map<string, CircuitBreakerPolicy>();
  readonly #bulkheads = new Map<string, BulkheadPolicy>();

  breakerFor(model: string, policy: ResiliencePolicy): CircuitBreakerPolicy {
    let breaker = this.#breakers.get(model);
    if (breaker === undefined) {
      breaker = circuitBreaker(handleWhen(countsAgainstBreaker), {
        halfOpenAfter: policy.breaker.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(policy.breaker.consecutiveFailures),
      });
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
