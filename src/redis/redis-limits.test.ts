import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import { runBreakerConformance, runRateLimitConformance } from '../store/testing/index.ts';
import { connectRedisLimits } from './redis-limits.ts';
import { openTestRedis, uniqueRedisPrefix } from './testing/index.ts';

const server = await openTestRedis();
const url = 'url' in server ? server.url : '';

// Two clients on one server and prefix: two connections, as two processes would hold.
async function twoClients(label: string) {
  const prefix = uniqueRedisPrefix(label);
  const first = await connectRedisLimits({ url, prefix });
  const second = await connectRedisLimits({ url, prefix });
  return { first, second, dispose: async () => void (await Promise.all([first.close(), second.close()])) };
}

runRateLimitConformance(
  'redis',
  'skipReason' in server
    ? { skip: server.skipReason }
    : async () => {
        const { first, second, dispose } = await twoClients('rate');
        return { first: first.rateLimiter, second: second.rateLimiter, dispose };
      },
);

runBreakerConformance(
  'redis',
  'skipReason' in server
    ? { skip: server.skipReason }
    : async () => {
        const { first, second, dispose } = await twoClients('breaker');
        return { first: first.breakers, second: second.breakers, dispose };
      },
);

test('an unreachable server fails the start in one line naming where; a URL that is not Redis names the setting', async () => {
  // Port 1 on the loopback refuses at once: nothing listens there.
  await assert.rejects(connectRedisLimits({ url: 'redis://:secret@127.0.0.1:1', connectTimeoutMs: 1_000 }), (error: unknown) => {
    assert.ok(error instanceof KeelError);
    assert.equal(error.code, 'redis-unavailable');
    assert.match(error.message, /^cannot connect in Redis at 127\.0\.0\.1:1: /);
    assert.doesNotMatch(error.message, /secret|\n/);
    return true;
  });
  await assert.rejects(connectRedisLimits({ url: 'http://127.0.0.1:6379' }), { code: 'config-invalid', message: 'KEEL_REDIS_URL must start with redis:// or rediss://, got http://' });
  await assert.rejects(connectRedisLimits({ url: 'not a url' }), { code: 'config-invalid' });
});
