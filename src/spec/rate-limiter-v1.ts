/**
 * Rate limiter specification, version 1. Types only. The in-memory sliding window is right for
 * one process; processes that share tenants share a store behind this same interface (a Keel
 * store's `rateLimits`, or Redis: one sorted set per key, trimmed, counted and added to in one
 * script), whose own clock times the windows.
 */

export interface RateLimitRequestV1 {
  /** e.g. `tool:issue_refund:tenant:acme`. */
  key: string;
  limit: number;
  windowMs: number;
}

export type RateLimitDecisionV1 = { allowed: true } | { allowed: false; key: string; retryAfterMs: number };

/** A caller's own clock (tests, replays); without it a limiter uses its store's. */
export interface RateLimitClockV1 {
  nowMs: number;
}

export interface RateLimiterV1 {
  /**
   * All or nothing: counts one call against every key when each has room, and against none when
   * any is full, so a call refused by one window does not use up another.
   */
  acquire(requests: RateLimitRequestV1[], clock?: RateLimitClockV1): RateLimitDecisionV1 | Promise<RateLimitDecisionV1>;
}
