import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configHash, parseConfig } from './index.ts';

const source = 'keel.config.json';

function withRateLimit(rateLimit: unknown): unknown {
  return { version: 1, routes: [{ name: 'support', models: ['sim:fast'], rateLimit }] };
}

test("a route's per-tenant rate limit is read, and changes the config's hash", () => {
  const config = parseConfig(withRateLimit({ perTenant: { limit: 60, windowMs: 60_000 } }), source);
  assert.deepEqual(config.routes[0]?.rateLimit, { perTenant: { limit: 60, windowMs: 60_000 } });
  assert.notEqual(configHash(config), configHash(parseConfig(withRateLimit({ perTenant: { limit: 61, windowMs: 60_000 } }), source)));
});

test('a bad rate limit is one line naming the setting', () => {
  const cases: [unknown, string][] = [
    [{ perTenant: { limit: 0, windowMs: 1_000 } }, 'keel.config.json: routes[0].rateLimit.perTenant.limit: must be ≥ 1 (calls), got 0'],
    [{ perTenant: { limit: 2.5, windowMs: 1_000 } }, 'keel.config.json: routes[0].rateLimit.perTenant.limit: must be an integer (calls), got 2.5'],
    [{ perTenant: { limit: 5 } }, 'keel.config.json: routes[0].rateLimit.perTenant.windowMs: is required'],
    [{ perTenant: { limit: 5, windowMs: 1_000, burst: 2 } }, 'keel.config.json: routes[0].rateLimit.perTenant.burst: unknown setting (allowed here: limit, windowMs)'],
    [{ perModel: { limit: 5, windowMs: 1_000 } }, 'keel.config.json: routes[0].rateLimit.perTenant: is required'],
    [{ perTenant: { limit: 5, windowMs: 1_000 }, perModel: { limit: 5, windowMs: 1_000 } }, 'keel.config.json: routes[0].rateLimit.perModel: unknown setting (allowed here: perTenant)'],
  ];
  for (const [rateLimit, message] of cases) {
    assert.throws(() => parseConfig(withRateLimit(rateLimit), source), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal(error.message, message);
      assert.equal((error as { code?: string }).code, 'config-invalid');
      return true;
    });
  }
});
