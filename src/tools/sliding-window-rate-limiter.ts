import type { RateLimitClockV1, RateLimitDecisionV1, RateLimitRequestV1, RateLimiterV1 } from '../spec/index.ts';

interface KeyWindow {
  windowMs: number;
  /** Times of the calls still inside the window, oldest first. */
  times: number[];
}

/** Acquisitions between sweeps of keys nobody has touched since their window emptied. */
const sweepEvery = 1_000;

/**
 * An exact sliding window in memory: each key keeps the times of its calls within the window, so a
 * burst at the edge of a fixed bucket cannot double the limit. Memory is at most `limit` times per
 * active key; idle keys are swept. One process only: see src/spec/rate-limiter-v1.ts for several.
 */
export class SlidingWindowRateLimiter implements RateLimiterV1 {
  readonly #now: () => number;
  readonly #windows = new Map<string, KeyWindow>();
  #untilSweep = sweepEvery;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  acquire(requests: RateLimitRequestV1[], clock?: RateLimitClockV1): RateLimitDecisionV1 {
    const now = clock?.nowMs ?? this.#now();
    this.#sweepNowAndThen(now);
    for (const request of requests) {
      const times = this.#trimmed(request.key, request.windowMs, now);
      if (times.length >= request.limit) {
        // The call whose expiry frees a slot is the one `limit` places from the newest.
        const freeing = times[times.length - request.limit] ?? now;
        return { allowed: false, key: request.key, retryAfterMs: Math.max(1, freeing + request.windowMs - now) };
      }
    }
    for (const request of requests) this.#trimmed(request.key, request.windowMs, now).push(now);
    return { allowed: true };
  }

  /** The key's call times inside the window ending now, creating the key if needed. */
  #trimmed(key: string, windowMs: number, now: number): number[] {
    let window = this.#windows.get(key);
    if (window === undefined) {
      window = { windowMs, times: [] };
      this.#windows.set(key, window);
    }
    window.windowMs = windowMs;
    const firstInside = window.times.findIndex((time) => time > now - windowMs);
    window.times.splice(0, firstInside === -1 ? window.times.length : firstInside);
    return window.times;
  }

  #sweepNowAndThen(now: number): void {
    this.#untilSweep -= 1;
    if (this.#untilSweep > 0) return;
    this.#untilSweep = sweepEvery;
    for (const [key, window] of this.#windows) {
      if ((window.times.at(-1) ?? -Infinity) <= now - window.windowMs) this.#windows.delete(key);
    }
  }
}
