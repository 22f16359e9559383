/**
 * Rate limits and breaker state on a Redis server, for deployments that set `KEEL_REDIS_URL`:
 * one client per process, connected at start (an unreachable server stops the process there, in
 * one line), reconnecting afterwards. Commands fail at once while it is disconnected instead of
 * queueing, so a call waits on Redis no longer than one attempt.
 */
import { createClient } from 'redis';
import { KeelError } from '../errors/index.ts';
import { RedisBreakerStates } from './redis-breaker-states.ts';
import { RedisConcurrencySlots } from './redis-concurrency-slots.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';
import { redisFailure } from './redis-scripts.ts';
import type { RedisScripts } from './redis-scripts.ts';

export interface RedisLimitsOptions {
  /** `redis://` or `rediss://`, as KEEL_REDIS_URL gives it. */
  url: string;
  /** Put before every key; default `keel:`. Deployments (and tests) sharing a server keep apart by it. */
  prefix?: string;
  /** How long connecting may take before the start fails; default 3 s. */
  connectTimeoutMs?: number;
}

export interface RedisLimits {
  readonly rateLimiter: RedisRateLimiter;
  readonly breakers: RedisBreakerStates;
  readonly concurrency: RedisConcurrencySlots;
  /** Host and port, safe to print (no credentials). */
  readonly location: string;
  close(): Promise<void>;
}

const defaultConnectTimeoutMs = 3_000;
// Between reconnection attempts once connected: short, capped, so a restarted server is found soon.
const maxReconnectDelayMs = 2_000;

export async function connectRedisLimits(options: RedisLimitsOptions): Promise<RedisLimits> {
  const location = redisLocation(options.url);
  let connected = false;
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? defaultConnectTimeoutMs,
      // Before the first connection a failure is final (the start reports it); after, keep trying.
      reconnectStrategy: (retries, cause) => (connected ? Math.min(maxReconnectDelayMs, 50 * 2 ** Math.min(retries, 6)) : cause),
    },
  });
  // The client emits every socket error; without a listener one would crash the process. Commands
  // report the problem to their callers instead.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    connected = true;
  } catch (error) {
    client.destroy();
    throw redisFailure(error, 'connect', location);
  }
  const scripts: RedisScripts = {
    run: async (what, script, values) => {
      try {
        return await client.eval(script, values);
      } catch (error) {
        throw redisFailure(error, what, location);
      }
    },
  };
  const prefix = options.prefix ?? 'keel:';
  let closing: Promise<void> | undefined;
  return {
    rateLimiter: new RedisRateLimiter(scripts, prefix),
    breakers: new RedisBreakerStates(scripts, prefix),
    concurrency: new RedisConcurrencySlots(scripts, prefix),
    location,
    close: () => {
      closing ??= client.close().catch(() => client.destroy());
      return closing;
    },
  };
}

/** `host:port` of a Redis URL; a URL that is not one is `config-invalid`, naming the setting. */
export function redisLocation(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KeelError('config-invalid', `KEEL_REDIS_URL is not a URL (expected redis://host:port)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new KeelError('config-invalid', `KEEL_REDIS_URL must start with redis:// or rediss://, got ${parsed.protocol}//`);
  }
  return `${parsed.hostname || 'localhost'}:${parsed.port || '6379'}`;
}
