// Rate limits and circuit-breaker state on a Redis server (KEEL_REDIS_URL), shared by every
// process of a deployment; the stores' own (StoreV1.rateLimits, .breakers) serve when it is unset.
export { connectRedisLimits, redisLocation } from './redis-limits.ts';
export type { RedisLimits, RedisLimitsOptions } from './redis-limits.ts';
export { RedisRateLimiter } from './redis-rate-limiter.ts';
export { RedisBreakerStates } from './redis-breaker-states.ts';
export { RedisConcurrencySlots } from './redis-concurrency-slots.ts';
