/**
 * The gateway builds its runtime through createKeel, so it takes the same shared limits: Redis
 * when KEEL_REDIS_URL is set, else its store's; a route's per-tenant limit makes a request over it
 * wait (journaled) instead of failing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { KeelConfig } from 'keel';
import { createGateway, runIdHeader, tenantHeader } from '../../src/gateway/index.ts';
import { RedisRateLimiter } from '../../src/redis/index.ts';
import { openTestRedis, uniqueRedisPrefix } from '../../src/redis/testing/index.ts';

const redis = await openTestRedis();
const folder = mkdtempSync(join(tmpdir(), 'keel-gateway-limits-'));
after(() => rmSync(folder, { recursive: true, force: true }));

// Long enough that the slot taken just before the request is still held when the request asks for
// one, however slow this machine is, so the test does not race the clock.
const window = { limit: 1, windowMs: 2_000 };
const config: KeelConfig = { version: 1, routes: [{ name: 'metered', models: ['sim:default'], rateLimit: { perTenant: window } }] };
const body = JSON.stringify({ model: 'metered', messages: [{ role: 'user', content: 'hi' }] });

test('with KEEL_REDIS_URL the gateway counts a route limit in Redis, and a request over it waits, journaled', { skip: 'skipReason' in redis ? redis.skipReason : false }, async () => {
  const url = 'url' in redis ? redis.url : '';
  const gateway = await createGateway({ database: join(folder, 'redis.db'), config, environment: { KEEL_REDIS_URL: url, KEEL_REDIS_PREFIX: uniqueRedisPrefix('gateway') } });
  try {
    assert.ok(gateway.keel.runtime.rateLimiter instanceof RedisRateLimiter);
    // Another process's call took tenant acme's slot on this route, through the same Redis.
    const taken = await gateway.keel.runtime.rateLimiter?.acquire([{ key: 'model:metered:tenant:acme', ...window }]);
    assert.equal(taken?.allowed, true);
    const response = await gateway.request('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', [tenantHeader]: 'acme' }, body });
    assert.equal(response.status, 200);
    const waits = (await gateway.keel.store.readJournal(response.headers.get(runIdHeader) ?? '')).filter((event) => event.type === 'retry-wait');
    assert.ok(waits.length >= 1, 'the request waited for its slot');
    assert.ok(waits.every((event) => (event.data as { reason?: string }).reason === 'rate-limit'));
  } finally {
    await gateway.close();
  }
});

test("without KEEL_REDIS_URL the gateway's rate limits are its store's", async () => {
  const gateway = await createGateway({ database: join(folder, 'store.db'), config, environment: {} });
  try {
    assert.equal(gateway.keel.runtime.rateLimiter, gateway.keel.store.rateLimits);
  } finally {
    await gateway.close();
  }
});
