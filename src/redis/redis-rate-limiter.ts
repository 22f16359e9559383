/**
 * Rate-limit windows in Redis (src/spec/rate-limiter-v1.ts), shared by every process that names
 * the same server and prefix: one sorted set per key, a member per call scored by its time. One
 * Lua script trims, counts and adds to every key of a call, and Redis runs a script alone, so two
 * processes cannot both take a window's last slot. Times are Redis's own (`TIME`): processes
 * whose clocks disagree still share one window. Each set expires a window after its last call.
 */
import { randomUUID } from 'node:crypto';
import { KeelError } from '../errors/index.ts';
import type { RateLimitClockV1, RateLimitDecisionV1, RateLimiterV1, RateLimitRequestV1 } from '../spec/index.ts';
import type { RedisScripts } from './redis-scripts.ts';

// KEYS: the windows. ARGV: limit and window of each key in turn, then the call's member, then a
// caller's clock ('' for Redis's). Returns {0, 0} when added, else {position of the full key, ms}.
const acquireScript = `
local count = #KEYS
local now = tonumber(ARGV[2 * count + 2])
if now == nil then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
for index = 1, count do
  local limit = tonumber(ARGV[2 * index - 1])
  local window = tonumber(ARGV[2 * index])
  redis.call('ZREMRANGEBYSCORE', KEYS[index], '-inf', now - window)
  local inside = redis.call('ZCARD', KEYS[index])
  if inside >= limit then
    -- The call whose expiry frees a slot is the one limit places from the newest.
    local freeing = redis.call('ZRANGE', KEYS[index], inside - limit, inside - limit, 'WITHSCORES')
    return {index, math.max(1, tonumber(freeing[2]) + window - now)}
  end
end
for index = 1, count do
  redis.call('ZADD', KEYS[index], now, ARGV[2 * count + 1])
  redis.call('PEXPIRE', KEYS[index], ARGV[2 * index])
end
return {0, 0}
`;

export class RedisRateLimiter implements RateLimiterV1 {
  readonly #scripts: RedisScripts;
  readonly #prefix: string;

  constructor(scripts: RedisScripts, prefix: string) {
    this.#scripts = scripts;
    this.#prefix = `${prefix}rate:`;
  }

  async acquire(requests: RateLimitRequestV1[], clock?: RateLimitClockV1): Promise<RateLimitDecisionV1> {
    if (requests.length === 0) return { allowed: true };
    const values = requests.flatMap((request) => [String(request.limit), String(request.windowMs)]);
    const reply = await this.#scripts.run('acquire a rate limit', acquireScript, {
      keys: requests.map((request) => this.#prefix + request.key),
      arguments: [...values, randomUUID(), clock === undefined ? '' : String(clock.nowMs)],
    });
    if (!Array.isArray(reply) || reply.length !== 2) throw new KeelError('redis-unavailable', `the rate-limit script answered ${JSON.stringify(reply)}`);
    const position = Number(reply[0]);
    if (position === 0) return { allowed: true };
    return { allowed: false, key: requests[position - 1]?.key ?? '', retryAfterMs: Number(reply[1]) };
  }
}
