/**
 * Finds a Redis server for tests, or says why there is none so tests skip visibly. Tests keep
 * apart on one server by a unique key prefix each.
 */
import { randomBytes } from 'node:crypto';
import { connectRedisLimits } from '../redis-limits.ts';

const localUrl = 'redis://127.0.0.1:6379';

export async function openTestRedis(): Promise<{ url: string } | { skipReason: string }> {
  const configured = process.env.KEEL_TEST_REDIS_URL;
  const url = configured === undefined || configured === '' ? localUrl : configured;
  try {
    await (await connectRedisLimits({ url, connectTimeoutMs: 1_000 })).close();
    return { url };
  } catch (error) {
    return { skipReason: `no Redis reachable at ${url} (${error instanceof Error ? error.message : String(error)}); set KEEL_TEST_REDIS_URL` };
  }
}

/** A fresh key prefix: the label, process id and a random suffix. */
export function uniqueRedisPrefix(label: string): string {
  return `keel-test:${label}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}
