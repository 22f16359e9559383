/** How a route retries, times out, breaks and sheds load; every field has a production default. */
export interface ResiliencePolicy {
  /** Attempts per model, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Each attempt's own time limit. */
  attemptTimeoutMs: number;
  breaker: { consecutiveFailures: number; halfOpenAfterMs: number };
  /**
   * `shared`: the cap holds across every process on the store (a bulkhead the config declares);
   * otherwise it is this process's own, as the default safety cap is, which costs no store write.
   */
  bulkhead: { maxConcurrent: number; maxQueued: number; shared?: boolean };
}

export const defaultResiliencePolicy: ResiliencePolicy = {
  maxAttempts: 3,
  initialDelayMs: 250,
  maxDelayMs: 20_000,
  attemptTimeoutMs: 60_000,
  breaker: { consecutiveFailures: 5, halfOpenAfterMs: 30_000 },
  bulkhead: { maxConcurrent: 32, maxQueued: 256 },
};

export function resiliencePolicy(overrides: Partial<ResiliencePolicy> = {}): ResiliencePolicy {
  return {
    ...defaultResiliencePolicy,
    ...overrides,
    breaker: { ...defaultResiliencePolicy.breaker, ...overrides.breaker },
    // A bulkhead someone declared is a deployment's limit, held across processes; the default is a per-process safety cap.
    bulkhead: overrides.bulkhead === undefined ? { ...defaultResiliencePolicy.bulkhead } : { ...defaultResiliencePolicy.bulkhead, shared: true, ...overrides.bulkhead },
  };
}
