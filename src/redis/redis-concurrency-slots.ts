/**
 * Concurrency-limit slots in Redis (src/spec/concurrency-store-v1.ts), shared by every process that
 * names the same server and prefix: one sorted set per key, each holder scored by when its lease
 * runs out. Each step is one Lua script, which Redis runs alone, so two processes cannot both take
 * the last slot. Scores are Redis's clock (`TIME`); callers see durations only.
 */
import { KeelError } from '../errors/index.ts';
import type { ConcurrencyStoreV1, SlotGrantV1, SlotRequestV1 } from '../spec/index.ts';
import type { RedisScripts } from './redis-scripts.ts';

const preamble = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
`;

// ARGV: holder, limit, leaseMs. Answers {granted, held, retryAfterMs}.
const acquireScript = `${preamble}
local held = redis.call('ZCARD', KEYS[1])
local lease = tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or held < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  -- The set outlives its longest lease by a little, so an abandoned key is forgotten.
  if redis.call('PTTL', KEYS[1]) < lease + 1000 then redis.call('PEXPIRE', KEYS[1], lease + 1000) end
  return {1, redis.call('ZCARD', KEYS[1]), 0}
end
local earliest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, held, tonumber(earliest[2]) - now}
`;

// ARGV: holder, leaseMs. A lapsed slot (removed above) is not renewed: another may hold its place.
const renewScript = `${preamble}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
if redis.call('PTTL', KEYS[1]) < lease + 1000 then redis.call('PEXPIRE', KEYS[1], lease + 1000) end
return 1
`;

export class RedisConcurrencySlots implements ConcurrencyStoreV1 {
  readonly concurrencySpecificationVersion = 'v1';
  readonly #scripts: RedisScripts;
  readonly #prefix: string;

  constructor(scripts: RedisScripts, prefix: string) {
    this.#scripts = scripts;
    this.#prefix = `${prefix}slots:`;
  }

  async acquireSlot(request: SlotRequestV1): Promise<SlotGrantV1> {
    const what = 'acquire a concurrency slot';
    const reply = await this.#scripts.run(what, acquireScript, { keys: [this.#prefix + request.key], arguments: [request.holder, String(request.limit), String(request.leaseMs)] });
    if (!Array.isArray(reply) || reply.length < 3) throw new KeelError('redis-unavailable', `cannot ${what}: the script answered ${JSON.stringify(reply)}`);
    const granted = Number(reply[0]) === 1;
    const held = Number(reply[1]);
    return granted ? { granted, held } : { granted, held, retryAfterMs: Math.max(0, Number(reply[2])) };
  }

  async renewSlot(key: string, holder: string, leaseMs: number): Promise<boolean> {
    const reply = await this.#scripts.run('renew a concurrency slot', renewScript, { keys: [this.#prefix + key], arguments: [holder, String(leaseMs)] });
    return Number(reply) === 1;
  }

  async releaseSlot(key: string, holder: string): Promise<void> {
    await this.#scripts.run('release a concurrency slot', `return redis.call('ZREM', KEYS[1], ARGV[1])`, { keys: [this.#prefix + key], arguments: [holder] });
  }
}
