/**
 * Rate limiter specification, version 1. Types only. The in-memory sliding window is right for
 * one process; processes that share tenants need a shared store (Redis: one sorted set per key,
 * trimmed, counted and added to in one script), behind this same interface.
 */

export interface RateLimitRequestV1 {
  /** e.g. `tool:issue_refund:tenant:acme`. */
  key: string;
  limit: number;
  windowMs: number;
}

export type RateLimitDecisionV1 = { allowed: true } | { allowed: false; key: string; retryAfterMs: number };

export interface RateLimiterV1 {
  /**
   * All or nothing: counts one call against every key when each has room, and against none when
   * any is full, so a call refused by one window does not use up another.
   */
  acquire(requests: RateLimitRequestV1[]): RateLimitDecisionV1 | Promise<RateLimitDecisionV1>;
}
