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

const config: KeelConfig = { version: 1, routes: [{ name: 'metered', models: ['sim:default'], rateLimit: { perTenant: { limit: 1, windowMs: 300 } } }] };
const body = JSON.stringify({ model: 'metered', messages: [{ role: 'user', content: 'hi' }] });

test('with KEEL_REDIS_URL the gateway counts a route limit in Redis, and a request over it waits, journaled', { skip: 'skipReason' in redis ? redis.skipReason : false }, async () => {
  const url = 'url' in redis ? redis.url : '';
  const gateway = await createGateway({ database: join(folder, 'redis.db'), config, environment: { KEEL_REDIS_URL: url, KEEL_REDIS_PREFIX: uniqueRedisPrefix('gateway') } });
  try {
    assert.ok(gateway.keel.runtime.rateLimiter instanceof RedisRateLimiter);
    const send = () => gateway.request('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', [tenantHeader]: 'acme' }, body });
    const first = await send();
    const second = await send();
    assert.deepEqual([first.status, second.status], [200, 200]);
    const waits = (await gateway.keel.store.readJournal(second.headers.get(runIdHeader) ?? '')).filter((event) => event.type === 'retry-wait');
    assert.ok(waits.length >= 1, 'the second request waited for its slot');
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
